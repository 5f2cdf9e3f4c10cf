/** A form's project choice: the projects the caller may see; empty means the `default` project (or unchanged). */
import { useProjects } from './use-projects';

interface ProjectFieldProps {
  id: string;
  value: number | null;
  onChange: (id: number | null) => void;
  testId: string;
  describedBy?: string;
}

export function ProjectSelect({ id, value, onChange, testId, describedBy }: ProjectFieldProps) {
  const { projects } = useProjects();
  return (
    <select
      className="select"
      id={id}
      value={value === null ? '' : String(value)}
      onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))}
      data-testid={testId}
      aria-describedby={describedBy}
    >
      <option value="">(the default project)</option>
      {projects.map((p) => (
        <option key={p.id} value={p.id}>
          {p.name}
        </option>
      ))}
    </select>
  );
}
