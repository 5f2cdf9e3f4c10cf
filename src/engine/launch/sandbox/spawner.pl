#!/usr/bin/perl
# The step spawner inside a run's sandbox (run-sandbox.ts): the same job and protocol as
# spawner-main.ts (see spawner-protocol.ts), without Node. A run's sandbox starts one, so what it
# costs to start is paid per run: Node takes 80-250 ms of CPU to start, this a few (perl-base is
# Essential on Debian). It also gives each step a 1 MiB output pipe (F_SETPIPE_SZ), which Node
# cannot: a 64 KiB pipe blocks a chatty step whenever the server is not scheduled.
#
# It loads no module, not even POSIX or JSON::PP (each costs more than perl's own start): system
# calls go through syscall() with the numbers of the architecture the server names (argument 1),
# and the JSON of the protocol is read and written here. It speaks Node's IPC framing: one JSON
# message per line on the socket NODE_CHANNEL_FD names, as fork() with 'json' serialization does.
#
# Usage (by RunSandbox only): perl spawner.pl <process.arch> <FIFO folder>
use strict;

my %ARCH = (
  # System call numbers and O_NOFOLLOW (arm64 has its own) of the architectures run-sandbox.ts
  # starts this on; elsewhere it uses the Node spawner.
  x64 => { fcntl => 72, setsid => 112, mknodat => 259, rt_sigprocmask => 14, signalfd4 => 289, prlimit64 => 302, O_NOFOLLOW => 0400000 },
  arm64 => { fcntl => 25, setsid => 157, mknodat => 33, rt_sigprocmask => 135, signalfd4 => 74, prlimit64 => 261, O_NOFOLLOW => 0100000 },
);
my ($arch, $fifo_dir) = @ARGV;
my $nr = $ARCH{ $arch // '' };
die "spawner.pl: started by RunSandbox with a known architecture and its FIFO folder\n" unless $nr && defined $fifo_dir && defined $ENV{NODE_CHANNEL_FD};

# Constants as inlined subs (the constant module would load warnings).
sub O_WRONLY () { 1 }
sub O_RDWR () { 2 }
sub O_NONBLOCK () { 04000 }
sub O_CLOEXEC () { 02000000 }
sub F_SETFD () { 2 }
sub F_GETFL () { 3 }
sub F_SETFL () { 4 }
sub F_SETPIPE_SZ () { 1031 }
sub S_IFIFO () { 010000 }
sub AT_FDCWD () { -100 }
sub SIG_BLOCK () { 0 }
sub SIG_UNBLOCK () { 1 }
sub WNOHANG () { 1 }
sub EINTR () { 4 }
sub EAGAIN () { 11 }
sub RLIMIT_FSIZE () { 1 }
sub FIFO_BATCH () { 32 }
my $O_NOFOLLOW = $nr->{O_NOFOLLOW};

# Linux's signal numbers on x86-64 and arm64, with the names Node gives them.
my @SIGNAME = (undef, qw(SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV SIGUSR2 SIGPIPE SIGALRM SIGTERM
    SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS));
my %SIGNUM = map { ($SIGNAME[$_] => $_) } 1 .. $#SIGNAME;

# The largest pipe an unprivileged process may ask for caps the step's pipe (1 MiB by default).
my $pipe_size = 1024 * 1024;
if (open(my $max, '<', '/proc/sys/fs/pipe-max-size')) {
  my $cap = <$max>;
  $pipe_size = $cap if defined $cap && $cap =~ /^\d+$/ && $cap < $pipe_size;
  close $max;
}

# The server decides when steps stop; a closed channel (the server gone, even by SIGKILL) ends this.
$SIG{$_} = 'IGNORE' for qw(INT TERM HUP PIPE);

# A child's end is read from a signalfd, in the same select() as the channel: a SIGCHLD handler
# could fire between the check for pending signals and select(), and its exit would wait for the
# next message. SIGCHLD stays blocked here; a step gets it unblocked (the mask survives exec).
my $chld_mask = pack('Q', 1 << (17 - 1));
syscall($nr->{rt_sigprocmask}, SIG_BLOCK, $chld_mask, 0, 8) == 0 or die "spawner.pl: rt_sigprocmask: $!\n";
my $sigfd = syscall($nr->{signalfd4}, -1, $chld_mask, 8, O_CLOEXEC | O_NONBLOCK);
die "spawner.pl: signalfd: $!\n" if $sigfd < 0;
open(my $sig_fh, '<&=', $sigfd) or die "spawner.pl: signalfd: $!\n";

# Whatever this process inherited (the IPC channel, and descriptors its starters did not close)
# is not for steps: close-on-exec, all of it. Perl marks what it opens itself.
if (opendir(my $fds, '/proc/self/fd')) {
  my @inherited = grep { /^\d+$/ && $_ > 2 } readdir $fds;
  closedir $fds;
  syscall($nr->{fcntl}, $_ + 0, F_SETFD, 1) for @inherited;
}
open(my $channel, '+<&=', $ENV{NODE_CHANNEL_FD}) or die "spawner.pl: no IPC channel: $!\n";
fcntl($channel, F_SETFD, 1) or die "spawner.pl: fcntl: $!\n";
# Blocking writes keep whole lines on the channel without a queue of our own.
my $flags = fcntl($channel, F_GETFL, 0);
fcntl($channel, F_SETFL, $flags & ~O_NONBLOCK) if defined $flags;

my %running;    # pid => launch id
my $fifo_serial = 0;

sub send_line {
  my $line = shift() . "\n";
  while (length $line) {
    my $n = syswrite($channel, $line);
    if (!defined $n) {
      next if $! == EINTR || $! == EAGAIN;
      return;    # the server is gone; the read side sees the channel close and ends this
    }
    substr($line, 0, $n, '');
  }
}

sub json_string {
  my $s = shift;
  $s =~ s/(["\\])/\\$1/g;
  $s =~ s/([\x00-\x1f\x7f])/sprintf('\\u%04x', ord $1)/ge;
  return qq("$s");
}

sub fail {
  my ($id, $message) = @_;
  send_line(sprintf('{"type":"failed","id":%d,"message":%s}', $id, json_string($message)));
}

# --- JSON, only as much as the server sends: objects, arrays, strings, numbers, literals. ---

# Never a pattern that can match nothing: after an empty match, Perl refuses another empty match
# at the same position, so a lookahead after an empty `\s*` would fail.
our $J;

sub ws { $J =~ /\G\s+/gc }

sub json_value {
  ws();
  if ($J =~ /\G\{/gc) {
    my %object;
    ws();
    return \%object if $J =~ /\G\}/gc;
    while (1) {
      ws();
      my $key = json_text();
      $J =~ /\G\s*:/gc or die "expected ':'\n";
      $object{$key} = json_value();
      ws();
      next if $J =~ /\G,/gc;
      return \%object if $J =~ /\G\}/gc;
      die "expected ',' or '}'\n";
    }
  }
  if ($J =~ /\G\[/gc) {
    my @array;
    ws();
    return \@array if $J =~ /\G\]/gc;
    while (1) {
      push @array, json_value();
      ws();
      next if $J =~ /\G,/gc;
      return \@array if $J =~ /\G\]/gc;
      die "expected ',' or ']'\n";
    }
  }
  return json_text() if substr($J, pos($J) // 0, 1) eq '"';
  return 0 + $1 if $J =~ /\G(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/gc;
  return 1 if $J =~ /\Gtrue/gc;
  return 0 if $J =~ /\Gfalse/gc;
  return undef if $J =~ /\Gnull/gc;
  die "unexpected input\n";
}

my %UNESCAPE = ('"' => '"', '\\' => '\\', '/' => '/', b => "\b", f => "\f", n => "\n", r => "\r", t => "\t");

# A JSON string as the bytes a process gets (UTF-8): what came raw stays as it came.
sub json_text {
  $J =~ /\G"/gc or die "expected a string\n";
  my $text = '';
  while (1) {
    if ($J =~ /\G([^"\\]+)/gc) { $text .= $1; next }
    return $text if $J =~ /\G"/gc;
    if ($J =~ /\G\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})/gc) {
      $text .= utf8_bytes(0x10000 + ((hex($1) - 0xD800) << 10) + (hex($2) - 0xDC00));
      next;
    }
    if ($J =~ /\G\\u([0-9a-fA-F]{4})/gc) {
      my $code = hex $1;
      # A lone surrogate (Node escapes those) has no UTF-8 form: the replacement character.
      $text .= utf8_bytes($code >= 0xD800 && $code <= 0xDFFF ? 0xFFFD : $code);
      next;
    }
    if ($J =~ /\G\\(["\\\/bfnrt])/gc) { $text .= $UNESCAPE{$1}; next }
    die "bad string\n";
  }
}

sub utf8_bytes {
  my $char = chr shift;
  utf8::encode($char);
  return $char;
}

# --- What the server asks for. ---

sub make_fifos {
  my @paths;
  for (1 .. FIFO_BATCH) {
    my $path = "$fifo_dir/" . ++$fifo_serial;
    if (syscall($nr->{mknodat}, AT_FDCWD, $path, S_IFIFO | 0600, 0) != 0) {
      send_line(sprintf('{"type":"fifo-error","message":%s}', json_string("mkfifo $path: $!")));
      return;
    }
    push @paths, $path;
  }
  send_line('{"type":"fifos","paths":[' . join(',', map { json_string($_) } @paths) . ']}');
}

# Opens a FIFO's write end and unlinks it, or returns why not. O_RDWR never blocks on a FIFO
# (Linux). Holding it (the keeper), the O_WRONLY open returns at once too, even if the server's read
# end were already gone; that write-only, blocking descriptor is what the child gets, so it sees an
# ordinary pipe (EPIPE once nobody reads).
sub open_write_end {
  my $fifo = shift;
  my ($keeper, $writer);
  my $opened = sysopen($keeper, $fifo, O_RDWR | $O_NOFOLLOW) && sysopen($writer, $fifo, O_WRONLY | $O_NOFOLLOW);
  my $error = "$!";
  unlink $fifo;
  return "cannot open the step's pipe $fifo: $error" unless $opened;
  # Steps of this run share the folder: what was opened must be the pipe the server reads.
  return "$fifo is not one of the step spawner's pipes" unless -p $writer;
  # Best effort: past the user's pipe quota (fs.pipe-user-pages-soft) the pipe keeps its 64 KiB.
  fcntl($writer, F_SETPIPE_SZ, $pipe_size);
  return [$keeper, $writer];
}

sub launch {
  my $m = shift;
  my $id = $m->{id};
  my @argv = ($m->{file}, @{ $m->{args} || [] });
  my %env = %{ $m->{env} || {} };
  # The step's own file size limit (bytes): set in the child before exec, where a `prlimit` command
  # would cost an exec per launch. Anything but a whole number is refused rather than ignored.
  if (defined $m->{fileSizeBytes} && $m->{fileSizeBytes} !~ /^\d+$/) {
    unlink grep { defined } $m->{fifo}, $m->{stderrFifo};
    return fail($id, 'fileSizeBytes must be a whole number of bytes');
  }
  # exec() would cut a string at a NUL byte and run something else than asked; Node refuses them too.
  for (@argv, $m->{cwd}, %env) {
    if (!defined || /\0/) {
      unlink grep { defined } $m->{fifo}, $m->{stderrFifo};
      return fail($id, 'arguments, working directory and environment must be strings without null bytes');
    }
  }
  # stdout, and stderr on a FIFO of its own when asked (the platform's own commands); each is used
  # once, so both leave the folder whatever happens.
  my @ends;
  for my $fifo (grep { defined } $m->{fifo}, $m->{stderrFifo}) {
    my $end = open_write_end($fifo);
    if (!ref $end) {
      unlink grep { defined } $m->{fifo}, $m->{stderrFifo};
      return fail($id, $end);
    }
    push @ends, $end;
  }
  my ($stdout, $stderr) = ($ends[0][1], ($ends[1] || $ends[0])->[1]);
  # `input`: written into a pipe that is the child's stdin, then closed.
  my ($input_r, $input_w);
  if (defined $m->{input}) {
    pipe($input_r, $input_w) or return fail($id, "pipe: $!");
    fcntl($input_w, F_SETPIPE_SZ, $pipe_size) if length $m->{input} > 65536;
  }

  # The child reports a failure before exec() on this close-on-exec pipe; end-of-file means exec()
  # succeeded (what Node's spawn does too).
  pipe(my $report_r, my $report_w) or return fail($id, "pipe: $!");
  my $pid = fork;
  return fail($id, "fork: $!") unless defined $pid;
  if ($pid == 0) {
    close $report_r;
    my $why = child($m, \@argv, \%env, $input_r, $stdout, $stderr);
    syswrite($report_w, $why);
    exit 127;
  }
  close $report_w;
  my $report = '';
  1 while sysread($report_r, $report, 4096, length $report);
  close $report_r;
  @ends = ();    # closes the writers and keepers: the child holds its own
  close $input_r if $input_r;
  if ($report ne '') {
    waitpid($pid, 0);
    return fail($id, $report);
  }
  $running{$pid} = $id;
  send_line(sprintf('{"type":"started","id":%d,"pid":%d}', $id, $pid));
  write_input($input_w, $m->{input}) if $input_w;
}

# Pending stdin of children: fileno => [handle, bytes left]. Written as the child reads, from the
# main loop, so that a child slow to read never stops this spawner.
my %input_left;

sub write_input {
  my ($handle, $bytes) = @_;
  my $flags = fcntl($handle, F_GETFL, 0);
  fcntl($handle, F_SETFL, $flags | O_NONBLOCK);
  $input_left{ fileno $handle } = [$handle, $bytes];
  write_more(fileno $handle);
}

sub write_more {
  my $fd = shift;
  my $pending = $input_left{$fd};
  my $n = syswrite($pending->[0], $pending->[1]);
  if (defined $n) {
    substr($pending->[1], 0, $n, '');
  } elsif ($! == EAGAIN || $! == EINTR) {
    return;
  } else {
    $pending->[1] = '';    # EPIPE: the child exits without reading it all, which is its business
  }
  delete $input_left{$fd} if $pending->[1] eq '';    # closes it: the child sees end-of-file
}

# In the forked child: becomes the step, or returns why it could not.
sub child {
  my ($m, $argv, $env, $input, $stdout, $stderr) = @_;
  # Its own session and process group (Node's `detached`): signalled as a group, no terminal.
  return "setsid: $!" if syscall($nr->{setsid}) < 0;
  if (defined $m->{fileSizeBytes}) {
    # Soft and hard: the step cannot raise it again. Lowering needs no privilege; a limit above the
    # sandbox's own hard limit fails, and the launch with it.
    my $limit = pack('QQ', $m->{fileSizeBytes}, $m->{fileSizeBytes});
    return "file size limit: $!" if syscall($nr->{prlimit64}, 0, RLIMIT_FSIZE, $limit, 0) != 0;
  }
  $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE);
  syscall($nr->{rt_sigprocmask}, SIG_UNBLOCK, $chld_mask, 0, 8);
  if (!chdir $m->{cwd}) {
    return -e $m->{cwd} ? "cannot enter the working directory $m->{cwd}: $!" : "working directory $m->{cwd} does not exist";
  }
  if ($input) { open(STDIN, '<&', $input) or return "stdin: $!" }
  else { open(STDIN, '<', '/dev/null') or return "/dev/null: $!" }
  open(STDOUT, '>&', $stdout) or return "stdout: $!";
  open(STDERR, '>&', $stderr) or return "stderr: $!";
  # Exactly the environment given: nothing of the spawner's own.
  %ENV = %$env;
  { exec { $argv->[0] } @$argv }
  my $errno = $! + 0;
  my $message = "$!";
  # The error's name, as Node's spawn gives it (`spawn x ENOENT`); Errno loads only on this path.
  require Errno;
  my ($name) = grep { my $f = Errno->can($_); $f && $f->() == $errno } @{ $Errno::EXPORT_TAGS{POSIX} || [] };
  return "spawn $argv->[0] " . ($name // "errno $errno") . " ($message)";
}

sub reap {
  1 while sysread($sig_fh, my $info, 4096);
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
    my $status = $?;
    my $id = delete $running{$pid};
    next unless defined $id;
    my $signal = $status & 127;
    my ($code, $name) = $signal ? ('null', $SIGNAME[$signal]) : ($status >> 8, undef);
    # A signal Node has no name for (real-time): reported as a shell would, 128 + its number.
    ($code, $name) = (128 + $signal, undef) if $signal && !defined $name;
    # Whether the group is empty is asked here, where it costs a syscall, rather than by the server
    # afterwards, where from a sandbox it costs a round trip.
    my $gone = kill(0, -$pid) ? '' : ',"groupGone":true';
    send_line(sprintf('{"type":"exited","id":%d,"code":%s,"signal":%s%s}', $id, $code, defined $name ? json_string($name) : 'null', $gone));
  }
}

# Whether a group has a member that is not a zombie (process-group.ts, groupIsAlive).
sub group_alive {
  my $pgid = shift;
  return 0 unless kill(0, -$pgid);
  opendir(my $proc, '/proc') or return 1;
  while (defined(my $entry = readdir $proc)) {
    next unless $entry =~ /^\d+$/;
    open(my $stat_fh, '<', "/proc/$entry/stat") or next;
    my $stat = <$stat_fh>;
    next unless defined $stat;
    my ($state, undef, $pgrp) = split / /, substr($stat, rindex($stat, ')') + 2);
    return 1 if $pgrp == $pgid && $state ne 'Z' && $state ne 'X';
  }
  return 0;
}

sub group {
  my $m = shift;
  my $pgid = $m->{pgid};
  my $ok = 0;
  # Never 0 or 1 (kill(-1) signals every process it may): only a group this spawner started.
  if (defined $pgid && $pgid =~ /^\d+$/ && $pgid > 1) {
    if ($m->{type} eq 'alive') {
      $ok = group_alive($pgid);
    } else {
      my $signal = $m->{signal} // 0;
      my $number = $signal eq '0' ? 0 : $SIGNUM{$signal};
      $ok = defined $number && kill($number, -$pgid) ? 1 : 0;
    }
  }
  send_line(sprintf('{"type":"reply","id":%d,"ok":%s}', $m->{id}, $ok ? 'true' : 'false'));
}

sub handle {
  local $J = shift;
  my $m = eval { json_value() };
  # Not the server speaking: nothing more from this channel is trusted.
  bye() unless ref $m eq 'HASH';
  my $type = $m->{type} // '';
  if ($type eq 'launch') { launch($m) }
  elsif ($type eq 'more') { make_fifos() }
  elsif ($type eq 'signal' || $type eq 'alive') { group($m) }
  elsif ($type eq 'start-process') { fail($m->{id}, 'the spawner inside a sandbox starts no other spawner') }
  # Node's own messages (cmd NODE_...) are of no concern here.
}

sub bye {
  # Outside a sandbox the folder goes; inside it is a mount point and stays (its FIFOs go with the run's folders).
  if (opendir(my $dir, $fifo_dir)) {
    unlink map { "$fifo_dir/$_" } grep { !/^\.\.?$/ } readdir $dir;
    rmdir $fifo_dir;
  }
  exit 0;
}

make_fifos();
my $buffer = '';
my $wanted = '';
vec($wanted, fileno($channel), 1) = 1;
vec($wanted, fileno($sig_fh), 1) = 1;
while (1) {
  my $writable;
  if (%input_left) {
    $writable = '';
    vec($writable, $_, 1) = 1 for keys %input_left;
  }
  my $ready = select(my $readable = $wanted, $writable, undef, undef);
  next if $ready < 0 && $! == EINTR;
  die "spawner.pl: select: $!\n" if $ready < 0;
  if (defined $writable) { vec($writable, $_, 1) && write_more($_) for keys %input_left }
  reap() if vec($readable, fileno($sig_fh), 1);
  next unless vec($readable, fileno($channel), 1);
  my $got = sysread($channel, $buffer, 65536, length $buffer);
  if (!$got) {
    next if !defined $got && ($! == EINTR || $! == EAGAIN);
    bye();
  }
  while ((my $end = index($buffer, "\n")) >= 0) {
    my $line = substr($buffer, 0, $end + 1, '');
    handle($line) if $line =~ /\S/;
  }
}
