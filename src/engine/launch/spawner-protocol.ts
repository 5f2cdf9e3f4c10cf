/**
 * The messages between a SpawnerLauncher (in the server) and its spawner process
 * (spawner-main.ts), as JSON over the fork() IPC channel: one message per line. Inside a run's
 * sandbox the spawner is sandbox/spawner.pl, which speaks the same lines (all but `start-process`,
 * which only the host's spawner serves); a change here must be made there too.
 *
 * Output never passes through the spawner. The server keeps a stock of fresh FIFOs, made in batches
 * by the spawner (one `mkfifo` call each, asked for with `more` when the stock runs low). Per launch
 * the server opens a FIFO's read end, then asks for the launch; the spawner opens the write end,
 * gives it to the child as stdout and stderr, unlinks the FIFO and closes its own copy.
 *
 * Why FIFOs: Node's own stdio pipes are socketpairs, and Linux cannot open() a socket through
 * /proc, so `echo x > /dev/stderr` or `tee /dev/stdout` failed with "No such device or address";
 * a FIFO is a real pipe. Each is used once: a process that escaped its group and kept the pipe can
 * never write into a later step's log.
 *
 * A step's stdout and stderr share one FIFO (its log keeps their order). The platform's own short
 * commands (the repository mirrors' git, which must not fork the large server) read stdout as data
 * and stderr as the reason of a failure: they ask for a second FIFO (`stderrFifo`), and may give
 * the child a few lines on stdin (`input`, e.g. `git cat-file --batch`'s requests), which the
 * spawner writes into a pipe and closes; without it stdin is /dev/null.
 */

/** Server → spawner. `fifo` is a path from a `fifos` message, already open for reading. */
export interface LaunchMessage {
  type: 'launch';
  id: number;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  fifo: string;
  /** The child's stderr, on a FIFO of its own (also from a `fifos` message, open for reading). */
  stderrFifo?: string;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /**
   * The child's file size limit (RLIMIT_FSIZE, soft and hard), set between fork and exec. Only
   * spawner.pl is sent it (a step whose limit is not its sandbox's); the Node spawner cannot set
   * a child's rlimit, so its sandbox runs such a step under `prlimit`, one exec more.
   */
  fileSizeBytes?: number;
}

/** Server → spawner: make another batch of FIFOs. */
export interface MoreFifosMessage {
  type: 'more';
}

/**
 * Server → spawner: signal a process group, or ask whether it is alive, where the server cannot
 * do so itself (the spawner runs in a sandbox's PID namespace, so `pgid` is a pid of that
 * namespace). Answered with a `reply` of the same id.
 */
export interface GroupMessage {
  type: 'signal' | 'alive';
  id: number;
  pgid: number;
  signal?: NodeJS.Signals | 0;
}

/**
 * Server → the host's spawner: start another spawner (a run's sandbox: prlimit, bubblewrap, Node)
 * whose IPC channel is handed to the server. The process gets a socket as descriptor 3 and
 * NODE_CHANNEL_FD=3 in `env`; the spawner answers `process-started` with the socket's other end
 * attached (Node's handle passing) and closes its own copy. So the server, whose fork() is slow
 * (its page tables are large), never forks, and talks to the new spawner directly. When the
 * process has exited, `process-exited` says so: the channel closes earlier (a sandbox's spawner
 * exits before bubblewrap has taken its namespaces down), so only this tells that it is gone.
 */
export interface StartProcessMessage {
  type: 'start-process';
  id: number;
  file: string;
  args: string[];
  env: Record<string, string>;
}

export type ToSpawner = LaunchMessage | MoreFifosMessage | GroupMessage | StartProcessMessage;

/** Spawner → server. */
export type SpawnerMessage =
  | { type: 'fifos'; paths: string[] }
  | { type: 'fifo-error'; message: string }
  | { type: 'started'; id: number; pid: number }
  | { type: 'failed'; id: number; message: string }
  /** `groupGone`: no process of the leader's group was left when it ended (nothing to terminate). */
  | { type: 'exited'; id: number; code: number | null; signal: NodeJS.Signals | null; groupGone?: boolean }
  | { type: 'reply'; id: number; ok: boolean }
  /** Sent with the IPC socket of the process started for a `start-process`. */
  | { type: 'process-started'; id: number; pid: number }
  /** That process has exited (and been reaped). */
  | { type: 'process-exited'; id: number; code: number | null; signal: NodeJS.Signals | null };
