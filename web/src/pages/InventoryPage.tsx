/**
 * One inventory (or a new one): its text in a code editor with the credentials it connects with
 * (a save Ansible refuses names the line, marked in the editor); its hosts with the last
 * connectivity check (status, ssh's reason, the facts that matter) and the "Check connectivity"
 * button (results fill in live from the gateway's inventory feed as hosts answer); its versions, with the diff of
 * any one against the latest and restore.
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import {
  checkInventory,
  createInventory,
  deleteInventory,
  diffInventory,
  getInventory,
  getInventoryCheck,
  listInventoryHosts,
  listInventoryVersions,
  restoreInventoryVersion,
  updateInventory,
  type Inventory,
  type InventoryCheckMessage,
  type InventoryFeedMessage,
  type InventoryHost,
} from '../api/endpoints';
import { openFeedSocket, type SocketState } from '../api/run-socket';
import { fromCheck, fromMessage, mergeCheck, missedResults, tally, withLiveResults, type LiveCheck } from '../inventories/check-live';
import { ApiError, errorMessage } from '../api/api-error';
import { canEditPipeline, canRun, useAuth } from '../auth/AuthProvider';
import { ErrorBanner, Loading } from '../components/Feedback';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { ProjectSelect } from '../projects/ProjectField';
import { CredentialPicker } from '../inventories/CredentialPicker';
import { useCurrentProject } from '../projects/current-project';
import '../styles/pipeline-file.css';
import '../styles/inventories.css';

const InventoryEditor = lazy(() => import('../inventories/InventoryEditor'));

const EXAMPLE = '[web]\nweb1 ansible_host=192.0.2.10\n\n[db]\ndb1 ansible_host=192.0.2.20\n';

export default function InventoryPage() {
  const { id } = useParams();
  const isNew = id === undefined;
  const loaded = useAsync((signal) => (isNew ? Promise.resolve(null) : getInventory(id, { signal })), [id]);
  if (!isNew && !loaded.data) {
    return <div className="page">{loaded.error ? <ErrorBanner error={loaded.error} /> : <Loading label="Loading inventory…" />}</div>;
  }
  return <InventoryView key={`${id ?? 'new'}-${loaded.data?.version ?? 0}`} inventory={loaded.data ?? null} onSaved={loaded.reload} />;
}

function InventoryView({ inventory, onSaved }: { inventory: Inventory | null; onSaved: () => void }) {
  const { user } = useAuth();
  const toast = useToast();
  const navigate = useNavigate();
  const currentProject = useCurrentProject();
  const [name, setName] = useState(inventory?.name ?? '');
  const [description, setDescription] = useState(inventory?.description ?? '');
  const [format, setFormat] = useState<'ini' | 'yaml'>(inventory?.format ?? 'ini');
  const [content, setContent] = useState(inventory?.content ?? EXAMPLE);
  const [ssh, setSsh] = useState(inventory?.ssh_credential ?? '');
  const [become, setBecome] = useState(inventory?.become_credential ?? '');
  const [vault, setVault] = useState<string[]>(inventory?.vault_credentials ?? []);
  const [project, setProject] = useState<number | null>(inventory?.project_id ?? currentProject);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const editable = inventory === null ? canRun(user) : canEditPipeline(user, inventory.created_by);
  const fieldErrors = error instanceof ApiError ? error.details : {};
  const errorLine = Number(/^line (\d+):/.exec(fieldErrors.content?.[0] ?? '')?.[1] ?? 0) || null;

  const save = async () => {
    setSaving(true);
    setError(null);
    const body = {
      name,
      description,
      format,
      content,
      ssh_credential: ssh.trim() === '' ? null : ssh.trim(),
      become_credential: become === '' ? null : become,
      vault_credentials: vault,
      ...(project !== null && { project }),
    };
    try {
      const saved = inventory ? await updateInventory(inventory.id, body) : await createInventory(body);
      toast(inventory ? `Saved ${saved.name} as version ${saved.version}` : `Created ${saved.name}`);
      if (inventory) onSaved();
      else navigate(`/inventories/${saved.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!inventory || !window.confirm(`Delete the inventory ${inventory.name} with its versions?`)) return;
    try {
      await deleteInventory(inventory.id);
      toast(`Deleted ${inventory.name}`);
      navigate('/inventories');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <div className="page page-wide inventory-page">
      <div className="breadcrumbs">
        <Link to="/inventories">Inventories</Link>
        <span aria-hidden="true">/</span>
        <span>{inventory?.name ?? 'New'}</span>
      </div>
      <div className="page-head">
        <div>
          <h1 data-testid="inventory-title">{inventory ? inventory.name : 'New inventory'}</h1>
          {inventory && (
            <p className="subtitle">
              Version {inventory.version} · {inventory.host_count} {inventory.host_count === 1 ? 'host' : 'hosts'} · updated{' '}
              <RelativeTime iso={inventory.updated_at} />
              {inventory.updated_by && ` by ${inventory.updated_by.username}`}
            </p>
          )}
        </div>
        {inventory && editable && (
          <button type="button" className="btn btn-danger" onClick={() => void remove()} data-testid="inventory-delete">
            Delete
          </button>
        )}
      </div>

      <section className="card inventory-form">
        <ErrorBanner error={error} />
        <div className="inventory-fields">
          <label>
            Name
            <input className="input" value={name} onChange={(e) => setName(e.target.value)} disabled={!editable} data-testid="inventory-name" />
            {fieldErrors.name && <span className="field-error">{fieldErrors.name.join(' ')}</span>}
          </label>
          <label>
            Format
            <select
              className="select"
              value={format}
              onChange={(e) => setFormat(e.target.value as 'ini' | 'yaml')}
              disabled={!editable}
              data-testid="inventory-format"
            >
              <option value="ini">INI</option>
              <option value="yaml">YAML</option>
            </select>
          </label>
          <label>
            SSH credential
            <input
              className="input mono"
              value={ssh}
              placeholder="an ssh_key credential's name"
              onChange={(e) => setSsh(e.target.value)}
              disabled={!editable}
              data-testid="inventory-ssh-credential"
            />
            {fieldErrors.ssh_credential && <span className="field-error">{fieldErrors.ssh_credential.join(' ')}</span>}
          </label>
          <CredentialPicker
            label="Become credential"
            kind="username_password"
            project={inventory?.project_id ?? project}
            value={become}
            onChange={setBecome}
            disabled={!editable}
            testId="inventory-become-credential"
            errors={fieldErrors.become_credential}
          />
          <CredentialPicker
            label="Vault credentials"
            multiple
            kind="ansible_vault_password"
            project={inventory?.project_id ?? project}
            value={vault}
            onChange={setVault}
            disabled={!editable}
            testId="inventory-vault-credentials"
            errors={fieldErrors.vault_credentials}
          />
          {!inventory && (
            <label>
              Project
              <ProjectSelect id="inventory-project" value={project} onChange={setProject} testId="inventory-project" />
            </label>
          )}
          <label className="full">
            Description
            <input
              className="input"
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              disabled={!editable}
              data-testid="inventory-description"
            />
          </label>
        </div>
        <Suspense fallback={<div className="yaml-editor-loading faint">Loading the editor…</div>}>
          <InventoryEditor key={format} initialValue={content} format={format} onChange={setContent} errorLine={errorLine} />
        </Suspense>
        {fieldErrors.content && (
          <p className="field-error" role="alert" data-testid="inventory-content-error">
            {fieldErrors.content.join(' ')}
          </p>
        )}
        {editable && (
          <div className="row" style={{ justifyContent: 'flex-end', marginTop: 12 }}>
            <button type="button" className="btn btn-primary" disabled={saving} onClick={() => void save()} data-testid="inventory-save">
              {inventory ? 'Save as a new version' : 'Create'}
            </button>
          </div>
        )}
      </section>

      {inventory && <HostsCard inventory={inventory} />}
      {inventory && <VersionsCard inventory={inventory} editable={editable} onRestored={onSaved} />}
    </div>
  );
}

const FEED_MESSAGES = new Set(['inventory_feed', 'inventory_check']);

/**
 * The hosts with their last check. Checks are followed live on the gateway's inventory feed
 * (`/ws/inventories/{id}`): its first message is the latest check, then each host's answer as it
 * comes and each check's end. A reconnect reads what the gap may have hidden (the hosts' records
 * and the check followed); an ended check that counts more answers than arrived is read once; only
 * when the feed cannot be reached is a running check polled, as before the feed existed.
 */
function HostsCard({ inventory }: { inventory: Inventory }) {
  const { user } = useAuth();
  const toast = useToast();
  const hosts = useAsync((signal) => listInventoryHosts(inventory.id, { signal }), [inventory.id]);
  const [limit, setLimit] = useState('');
  const [check, setCheck] = useState<LiveCheck | null>(null);
  const [posting, setPosting] = useState(false);
  const [feed, setFeed] = useState<SocketState | 'watching'>('connecting');
  const merge = useCallback((update: LiveCheck) => setCheck((current) => mergeCheck(current, update)), []);
  const reloadHosts = useRef(hosts.reload);
  reloadHosts.current = hosts.reload;
  const followed = useRef<number | null>(null);
  followed.current = check?.id ?? null;
  /** Checks seen running here, and those whose failure was told: an error is told once, for a check followed. */
  const seenRunning = useRef(new Set<number>());
  const told = useRef(new Set<number>());
  const readOnce = useRef(new Set<number>());

  useEffect(() => {
    let opened = false;
    return openFeedSocket<InventoryFeedMessage | InventoryCheckMessage>(`/ws/inventories/${inventory.id}`, FEED_MESSAGES, {
      onMessage(message) {
        if (message.type === 'inventory_feed') {
          setFeed('watching');
          if (message.data.latest) merge(fromMessage(message.data.latest));
          return;
        }
        merge(fromMessage(message.data));
      },
      onState(state) {
        setFeed(state);
        if (state !== 'open') return;
        // Back after a gap: what happened meanwhile is read over HTTP (the feed's first message
        // brings the latest check; the hosts' records and the check followed are read here).
        if (opened) {
          reloadHosts.current();
          const id = followed.current;
          if (id !== null)
            void getInventoryCheck(inventory.id, id).then(
              (c) => merge(fromCheck(c)),
              () => undefined,
            );
        }
        opened = true;
      },
    });
  }, [inventory.id, merge]);

  useEffect(() => {
    if (!check) return;
    if (check.status === 'running') {
      seenRunning.current.add(check.id);
      return;
    }
    if (missedResults(check) && !readOnce.current.has(check.id)) {
      readOnce.current.add(check.id);
      void getInventoryCheck(inventory.id, check.id).then(
        (c) => merge(fromCheck(c)),
        () => undefined,
      );
    }
    if (check.status === 'error' && seenRunning.current.has(check.id) && !told.current.has(check.id)) {
      told.current.add(check.id);
      toast(check.error ?? 'The check failed', 'error');
    }
  }, [check, inventory.id, merge, toast]);

  // Without the feed (the gateway unreachable), a running check is polled.
  const runningId = check?.status === 'running' ? check.id : null;
  useEffect(() => {
    if (feed !== 'failed' || runningId === null) return;
    const timer = setInterval(() => {
      void getInventoryCheck(inventory.id, runningId).then(
        (c) => merge(fromCheck(c)),
        () => undefined,
      );
    }, 1000);
    return () => clearInterval(timer);
  }, [feed, runningId, inventory.id, merge]);

  const run = async () => {
    setPosting(true);
    try {
      // A small check answers when done, a large one at once (202); either way the feed fills it in.
      const answer = await checkInventory(inventory.id, limit.trim() || undefined);
      seenRunning.current.add(answer.id);
      merge(fromCheck(answer));
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setPosting(false);
    }
  };

  const checking = posting || check?.status === 'running';
  const counts = check ? tally(check) : null;
  const answered = counts ? counts.reachable + counts.unreachable + counts.failed : 0;
  const rows = useMemo(() => (hosts.data ? withLiveResults(hosts.data, check) : null), [hosts.data, check]);

  return (
    <section className="card" data-testid="inventory-hosts" data-live={feed}>
      <div className="card-head">
        <h2>Hosts</h2>
        {canRun(user) && (
          <div className="row">
            <input
              className="input input-sm mono"
              placeholder="limit (all hosts)"
              value={limit}
              onChange={(e) => setLimit(e.target.value)}
              aria-label="Limit the check to hosts or groups"
              style={{ width: 200 }}
              data-testid="inventory-check-limit"
            />
            <button type="button" className="btn" disabled={checking} onClick={() => void run()} data-testid="inventory-check">
              {checking ? 'Checking…' : 'Check connectivity'}
            </button>
          </div>
        )}
      </div>
      {check && counts && (
        <p className="faint" role="status" data-testid="inventory-check-summary" data-check-id={check.id} data-status={check.status}>
          {check.status === 'running'
            ? `Checking ${check.host_count} hosts… ${check.results.length} answered`
            : `Checked ${answered} ${answered === 1 ? 'host' : 'hosts'}: ${counts.reachable} reachable, ${counts.unreachable} unreachable, ${counts.failed} failed`}
        </p>
      )}
      <ErrorBanner error={hosts.error} onRetry={hosts.reload} />
      {!hosts.data && hosts.loading && <Loading />}
      {rows && (
        <div className="table-wrap">
          <table className="table inventory-hosts" data-testid="inventory-hosts-table">
            <thead>
              <tr>
                <th>Host</th>
                <th>Groups</th>
                <th>Last check</th>
                <th>Facts</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((h) => (
                <HostRow key={h.name} host={h} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function HostRow({ host }: { host: InventoryHost }) {
  const c = host.check;
  const f = c?.facts ?? null;
  const address = typeof host.vars.ansible_host === 'string' ? host.vars.ansible_host : null;
  return (
    <tr data-testid="inventory-host-row" data-host={host.name} data-check={c?.status ?? 'never'}>
      <td>
        <div className="cell-title mono">{host.name}</div>
        {address && <div className="cell-sub mono">{address}</div>}
      </td>
      <td className="muted">{host.groups.join(', ') || '—'}</td>
      <td>
        {c ? (
          <>
            <span className={`badge check-${c.status}`} data-testid="inventory-host-status">
              {c.status}
            </span>
            {c.reason && (
              <div className="cell-sub check-reason" title={c.reason}>
                {c.reason}
              </div>
            )}
            <div className="cell-sub">
              <RelativeTime iso={c.checked_at} />
            </div>
          </>
        ) : (
          <span className="muted">never checked</span>
        )}
      </td>
      <td className="facts" data-testid="inventory-host-facts">
        {f ? (
          <>
            <div>
              {[f.distribution, f.distribution_version, f.distribution_release && `(${f.distribution_release})`].filter(Boolean).join(' ') || f.system}
              {f.architecture && <span className="muted"> · {f.architecture}</span>}
            </div>
            <div className="cell-sub mono">{[f.default_ipv4, ...f.ipv4_addresses.filter((a) => a !== f.default_ipv4)].filter(Boolean).join(', ')}</div>
            <div className="cell-sub">
              Python {f.python_version ?? '?'} <span className="mono">{f.python_executable}</span>
            </div>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

function VersionsCard({ inventory, editable, onRestored }: { inventory: Inventory; editable: boolean; onRestored: () => void }) {
  const toast = useToast();
  const versions = useAsync((signal) => listInventoryVersions(inventory.id, { signal }), [inventory.id, inventory.version]);
  const [diff, setDiff] = useState<{ from: number; to: number; text: string } | null>(null);

  const showDiff = async (from: number) => {
    try {
      const d = await diffInventory(inventory.id, from, inventory.version);
      setDiff({ from, to: inventory.version, text: d.diff });
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };
  const restore = async (version: number) => {
    try {
      const saved = await restoreInventoryVersion(inventory.id, version);
      toast(`Restored version ${version} as version ${saved.version}`);
      onRestored();
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <section className="card" data-testid="inventory-versions">
      <div className="card-head">
        <h2>Versions</h2>
      </div>
      <ErrorBanner error={versions.error} onRetry={versions.reload} />
      {versions.data && (
        <table className="table">
          <tbody>
            {versions.data.map((v) => (
              <tr key={v.version} data-testid="inventory-version-row" data-version={v.version}>
                <td className="tabular">v{v.version}</td>
                <td className="muted">
                  <RelativeTime iso={v.created_at} />
                  {v.created_by && ` by ${v.created_by.username}`}
                </td>
                <td className="actions">
                  {v.version === inventory.version ? (
                    <span className="badge">latest</span>
                  ) : (
                    <div className="row-actions">
                      <button type="button" className="btn btn-sm" onClick={() => void showDiff(v.version)} data-testid="inventory-version-diff">
                        Diff with latest
                      </button>{' '}
                      {editable && (
                        <button type="button" className="btn btn-sm" onClick={() => void restore(v.version)} data-testid="inventory-version-restore">
                          Restore
                        </button>
                      )}
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {diff && (
        <div className="inventory-diff">
          <h3 className="faint">
            Version {diff.from} → version {diff.to}
          </h3>
          <pre data-testid="inventory-diff">
            {diff.text === ''
              ? 'No difference in the text.'
              : diff.text.split('\n').map((line, i) => (
                  <span
                    key={i}
                    className={
                      line.startsWith('+') && !line.startsWith('+++')
                        ? 'diff-add'
                        : line.startsWith('-') && !line.startsWith('---')
                          ? 'diff-del'
                          : line.startsWith('@@')
                            ? 'diff-hunk'
                            : undefined
                    }
                  >
                    {line}
                    {'\n'}
                  </span>
                ))}
          </pre>
        </div>
      )}
    </section>
  );
}
