/**
 * Personal access tokens in the profile: create one (name, scopes, expiry), see it once with a
 * copy button, list them with their last use, revoke.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api/api-error';
import { createToken, listTokens, revokeToken, TOKEN_SCOPES, type PersonalToken, type TokenScope } from '../api/tokens-audit';
import type { Role } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { FormField, fieldAria } from '../components/FormField';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { dayInputValue, expiryFromDay, SCOPE_HINT, SCOPES_OF_ROLE } from './token-scopes';

export function TokensSection({ role }: { role: Role }) {
  const toast = useToast();
  const list = useAsync((signal) => listTokens({ signal }), []);
  const [created, setCreated] = useState<(PersonalToken & { token: string }) | null>(null);
  const [revoking, setRevoking] = useState<PersonalToken | null>(null);

  const revoke = async (token: PersonalToken) => {
    try {
      await revokeToken(token.id);
      toast(`Revoked ${token.name}`);
      list.reload();
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <section className="card card-body stack" data-testid="tokens-section">
      <h2>Access tokens</h2>
      <p className="field-hint">
        For scripts and the <code>ansflow</code> command line: send <code>Authorization: Bearer afp_…</code>. A token can do no more than its scopes, and never
        more than your role.
      </p>
      <NewTokenForm
        role={role}
        onCreated={(token) => {
          setCreated(token);
          list.reload();
        }}
      />
      {created && <CreatedToken token={created} onDone={() => setCreated(null)} />}
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Loading />}
      {list.data && list.data.length === 0 && <EmptyState title="No tokens yet" />}
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Scopes</th>
                <th className="hide-sm">Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((t) => (
                <tr key={t.id} data-testid="token-row" data-name={t.name}>
                  <td className="cell-title">{t.name}</td>
                  <td>
                    {t.scopes.map((s) => (
                      <span key={s} className="chip" style={{ marginRight: 4 }}>
                        {s}
                      </span>
                    ))}
                  </td>
                  <td className="hide-sm muted">
                    <RelativeTime iso={t.created_at} />
                  </td>
                  <td className="muted">
                    {Date.parse(t.expires_at) <= Date.now() ? <span className="badge tone-danger">expired</span> : <RelativeTime iso={t.expires_at} />}
                  </td>
                  <td className="muted">{t.last_used_at ? <RelativeTime iso={t.last_used_at} /> : 'never'}</td>
                  <td className="actions">
                    <button type="button" className="btn btn-sm btn-danger" onClick={() => setRevoking(t)} data-testid="token-revoke">
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke token"
        confirmLabel="Revoke"
        danger
        message={
          <p>
            <strong>{revoking?.name}</strong> stops working at once, wherever it is used.
          </p>
        }
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (revoking) await revoke(revoking);
          setRevoking(null);
        }}
      />
    </section>
  );
}

function NewTokenForm({ role, onCreated }: { role: Role; onCreated: (token: PersonalToken & { token: string }) => void }) {
  const allowed = SCOPES_OF_ROLE[role];
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<TokenScope[]>(['read']);
  const [day, setDay] = useState(dayInputValue(90));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string[]> = {};
    if (name.trim() === '') local.name = ['Name the token'];
    if (scopes.length === 0) local.scopes = ['Choose at least one scope'];
    if (day === '') local.expires_at = ['Choose an expiry date'];
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    setFormError(null);
    try {
      const token = await createToken({ name: name.trim(), scopes, expires_at: expiryFromDay(day) });
      setName('');
      onCreated(token);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (scope: TokenScope, on: boolean) =>
    setScopes((s) => (on ? TOKEN_SCOPES.filter((x) => x === scope || s.includes(x)) : s.filter((x) => x !== scope)));

  return (
    <form className="stack" onSubmit={submit} noValidate data-testid="new-token-form">
      {formError && <div className="banner banner-error">{formError}</div>}
      <div className="form-grid">
        <FormField id="token-name" label="Name" required errors={errors.name} errorPath="name">
          <input
            className="input"
            {...fieldAria('token-name', errors.name)}
            value={name}
            placeholder="deploy script"
            onChange={(e) => setName(e.target.value)}
            data-testid="token-name"
          />
        </FormField>
        <FormField id="token-expiry" label="Expires" required errors={errors.expires_at} errorPath="expires_at">
          <input
            className="input"
            type="date"
            min={dayInputValue(1)}
            max={dayInputValue(365)}
            {...fieldAria('token-expiry', errors.expires_at)}
            value={day}
            onChange={(e) => setDay(e.target.value)}
            data-testid="token-expiry"
          />
        </FormField>
        <FormField id="token-scopes" label="Scopes" required errors={errors.scopes} errorPath="scopes" className="full">
          <div className="row" role="group" aria-labelledby="token-scopes-label" style={{ flexWrap: 'wrap', gap: 16 }}>
            {TOKEN_SCOPES.map((scope) => (
              <label key={scope} className="check" title={allowed.includes(scope) ? SCOPE_HINT[scope] : `Your role (${role}) cannot give ${scope}`}>
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  disabled={!allowed.includes(scope)}
                  onChange={(e) => toggle(scope, e.target.checked)}
                  data-testid={`token-scope-${scope}`}
                />
                <span>
                  <strong>{scope}</strong> <span className="muted">— {SCOPE_HINT[scope]}</span>
                </span>
              </label>
            ))}
          </div>
        </FormField>
      </div>
      <div>
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="token-create">
          Create token
        </button>
      </div>
    </form>
  );
}

function CreatedToken({ token, onDone }: { token: PersonalToken & { token: string }; onDone: () => void }) {
  const toast = useToast();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
      toast('Token copied');
    } catch {
      toast('Copy failed: select the token and copy it', 'error');
    }
  };
  return (
    <div className="banner banner-info stack" role="status" data-testid="created-token">
      <div>
        <strong>{token.name}</strong>: copy this token now. It is shown only once.
      </div>
      <div className="row" style={{ gap: 8 }}>
        <input
          className="input mono"
          style={{ flex: 1, minWidth: 0 }}
          readOnly
          value={token.token}
          onFocus={(e) => e.target.select()}
          aria-label="The new token"
          data-testid="created-token-value"
        />
        <button type="button" className="btn" onClick={() => void copy()} data-testid="copy-token">
          Copy
        </button>
        <button type="button" className="btn btn-ghost" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
