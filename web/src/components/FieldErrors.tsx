/** Messages under an input; `path` is the API error path, exposed for tests as data-field. */
export function FieldErrors({ messages, path, id }: { messages: string[] | undefined; path: string; id?: string }) {
  if (!messages || messages.length === 0) return null;
  return (
    <div className="field-error" role="alert" id={id} data-testid="field-error" data-field={path}>
      {messages.join(' · ')}
    </div>
  );
}
