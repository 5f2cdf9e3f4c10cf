/** Cycles system → dark → light theme. */
import { useState } from 'react';
import { applyTheme, loadTheme, nextTheme, type ThemeChoice } from '../lib/theme';

const LABEL: Record<ThemeChoice, string> = { system: 'Theme: system', dark: 'Theme: dark', light: 'Theme: light' };
const ICON: Record<ThemeChoice, string> = { system: '◐', dark: '☾', light: '☀' };

export function ThemeToggle() {
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const toggle = () => {
    const next = nextTheme(theme);
    applyTheme(next);
    setTheme(next);
  };
  return (
    <button type="button" className="btn btn-ghost btn-icon" onClick={toggle} title={LABEL[theme]} aria-label={LABEL[theme]} data-testid="theme-toggle">
      <span aria-hidden="true" style={{ fontSize: 16 }}>
        {ICON[theme]}
      </span>
    </button>
  );
}
