/** The signed-in user: name and email, and changing the password (which signs out everywhere). */
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { changePassword, updateMe } from '../api/endpoints';
import { ApiError, errorMessage } from '../api/api-error';
import { endSession } from '../api/session';
import type { Me } from '../api/types';
import { useAuth } from '../auth/AuthProvider';
import { FormField, fieldAria } from '../components/FormField';
import { Loading } from '../components/Feedback';
import { useToast } from '../components/Toasts';
import { TokensSection } from '../profile/TokensSection';

export default function ProfilePage() {
  const { user, refreshUser } = useAuth();
  if (!user) return <Loading />;
  return (
    <div className="page" style={{ maxWidth: 760 }}>
      <div className="page-head">
        <div>
          <h1>{user.username}</h1>
          <p className="subtitle">
            Role <strong>{user.role}</strong>
          </p>
        </div>
      </div>
      <div className="stack">
        <ProfileForm key={user.id} initial={user} onSaved={refreshUser} />
        <PasswordForm />
        <TokensSection role={user.role} />
      </div>
    </div>
  );
}

function ProfileForm({ initial, onSaved }: { initial: { email: string; first_name: string; last_name: string }; onSaved: (me: Me) => Promise<void> }) {
  const toast = useToast();
  const [form, setForm] = useState({ email: initial.email ?? '', first_name: initial.first_name ?? '', last_name: initial.last_name ?? '' });
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      // PATCH answers with the updated user: hand it over instead of fetching it again
      await onSaved(await updateMe(form));
      toast('Profile saved');
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      else toast(errorMessage(err), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card card-body stack" onSubmit={submit} noValidate>
      <h2>Profile</h2>
      <div className="form-grid">
        {(['first_name', 'last_name'] as const).map((name) => (
          <FormField key={name} id={`me-${name}`} label={name === 'first_name' ? 'First name' : 'Last name'} errors={errors[name]} errorPath={name}>
            <input
              className="input"
              {...fieldAria(`me-${name}`, errors[name])}
              value={form[name]}
              onChange={(e) => setForm({ ...form, [name]: e.target.value })}
            />
          </FormField>
        ))}
        <FormField id="me-email" label="Email" errors={errors.email} errorPath="email" className="full">
          <input
            className="input"
            type="email"
            {...fieldAria('me-email', errors.email)}
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
        </FormField>
      </div>
      <div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Save profile
        </button>
      </div>
    </form>
  );
}

interface PasswordField {
  id: string;
  label: string;
  errorPath: string;
  className?: string;
  autoComplete: 'current-password' | 'new-password';
  value: string;
  set: (value: string) => void;
}

function PasswordForm() {
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string[]> = {};
    if (current === '') local.current_password = ['Enter your current password'];
    if (next.length < 8) local.new_password = ['At least 8 characters'];
    if (confirm !== next) local.confirm = ['Passwords do not match'];
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    setFormError(null);
    try {
      await changePassword(current, next);
      // the server revoked every token: sign in again with the new password
      endSession('logout');
      navigate('/login', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const fields: PasswordField[] = [
    {
      id: 'pw-current',
      label: 'Current password',
      errorPath: 'current_password',
      className: 'full',
      autoComplete: 'current-password',
      value: current,
      set: setCurrent,
    },
    { id: 'pw-new', label: 'New password', errorPath: 'new_password', autoComplete: 'new-password', value: next, set: setNext },
    { id: 'pw-confirm', label: 'Repeat new password', errorPath: 'confirm', autoComplete: 'new-password', value: confirm, set: setConfirm },
  ];
  return (
    <form className="card card-body stack" onSubmit={submit} noValidate>
      <h2>Change password</h2>
      <p className="field-hint">You will be signed out everywhere and asked to sign in again.</p>
      {formError && <div className="banner banner-error">{formError}</div>}
      <div className="form-grid">
        {fields.map((field) => (
          <FormField
            key={field.id}
            id={field.id}
            label={field.label}
            required
            errors={errors[field.errorPath]}
            errorPath={field.errorPath}
            className={field.className}
          >
            <input
              className="input"
              type="password"
              autoComplete={field.autoComplete}
              {...fieldAria(field.id, errors[field.errorPath])}
              value={field.value}
              onChange={(e) => field.set(e.target.value)}
            />
          </FormField>
        ))}
      </div>
      <div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Change password
        </button>
      </div>
    </form>
  );
}
