// Applies the saved theme before the first paint (an external file so a strict CSP allows it).
(function () {
  try {
    var t = localStorage.getItem('ansflow.theme');
    if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  } catch {
    // Storage blocked (private mode, policy): keep the default theme.
  }
})();
