/**
 * The launcher of a server whose steps are sandboxed: it opens a RunSandbox per run and starts
 * each launch in the sandbox of the run it belongs to (LaunchRequest.scope). A launch that names
 * no open run is refused: nothing runs outside a sandbox by accident.
 */
import type { LaunchedProcess, LaunchRequest, OpenRunInput, ProcessLauncher, RunIsolation, RunSandbox as RunSandboxHandle } from '../launcher.js';
import { RunSandbox } from './run-sandbox.js';
import type { SandboxState } from './sandbox-settings.js';

export class SandboxLauncher implements ProcessLauncher, RunIsolation {
  private readonly runs = new Map<number, RunSandbox>();
  private closed = false;

  constructor(private readonly state: Exclude<SandboxState, { mode: 'off' }>) {}

  async openRun(input: OpenRunInput): Promise<RunSandboxHandle> {
    if (this.closed) throw new Error('the step launcher is closed');
    if (!this.state.available)
      throw new Error(`steps are not run: the sandbox cannot be set up (${this.state.reason}); ANSFLOW_SANDBOX=off runs them without isolation`);
    const sandbox = await RunSandbox.open(this.state.settings, input);
    this.runs.set(input.runId, sandbox);
    return {
      close: async () => {
        this.runs.delete(input.runId);
        await sandbox.close();
      },
    };
  }

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    const runId = request.scope?.runId;
    const sandbox = runId === undefined ? undefined : this.runs.get(runId);
    if (!sandbox) throw new Error('refused: a step process must start inside its run\'s sandbox, and none is open for it');
    return sandbox.launch(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.runs.values()].map((s) => s.close()));
    this.runs.clear();
    if (this.state.available) await this.state.settings.cgroups?.close();
  }
}
