/**
 * The built-in step catalogue served at GET /api/step-types/. Each `config_schema` is the JSON
 * Schema that validates a step's `config` when a pipeline is saved, and the source the web UI
 * generates its forms from.
 */
export interface StepType {
  id: string;
  name: string;
  description: string;
  category: string;
  icon: string;
  config_schema: JsonSchemaObject;
}

export type JsonSchemaObject = {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required: string[];
  additionalProperties: boolean;
};

const stringMap = (title: string, description: string) => ({
  type: 'object',
  title,
  description,
  additionalProperties: { type: 'string', maxLength: 65536 },
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
  maxProperties: 200,
});

export const STEP_TYPES: readonly StepType[] = [
  {
    id: 'git_checkout',
    name: 'Git Checkout',
    description: '检出 Git 代码',
    category: 'source_control',
    icon: 'git',
    config_schema: {
      type: 'object',
      properties: {
        repository: {
          type: 'string',
          title: '仓库地址',
          description: 'https://, http://, ssh://, git:// or user@host:path',
          minLength: 1,
          maxLength: 2048,
        },
        branch: { type: 'string', title: '分支名称', default: 'main', minLength: 1, maxLength: 255 },
        commit: {
          type: 'string',
          title: 'Commit',
          description: 'Exact commit to check out (overrides the branch head)',
          pattern: '^[0-9a-fA-F]{7,64}$',
        },
        depth: { type: 'integer', title: 'Depth', description: 'Shallow clone depth; 0 for full history', default: 1, minimum: 0, maximum: 100000 },
        submodules: { type: 'boolean', title: 'Submodules', description: 'Also check out submodules', default: false },
        directory: {
          type: 'string',
          title: 'Directory',
          description: 'Folder inside the workspace to clone into (default: the workspace itself)',
          maxLength: 255,
        },
      },
      required: ['repository'],
      additionalProperties: false,
    },
  },
  {
    id: 'shell_command',
    name: 'Shell Command',
    description: '执行 Shell 命令',
    category: 'build',
    icon: 'terminal',
    config_schema: {
      type: 'object',
      properties: {
        command: { type: 'string', title: '命令', description: 'Script run with `bash -e`', minLength: 1, maxLength: 1048576, format: 'textarea' },
        shell: { type: 'string', title: 'Shell', description: 'Interpreter', enum: ['bash', 'sh'], default: 'bash' },
        working_directory: { type: 'string', title: '工作目录', description: 'Relative to the run workspace', maxLength: 1024 },
        env: stringMap('环境变量', 'Extra environment variables for this step'),
      },
      required: ['command'],
      additionalProperties: false,
    },
  },
  {
    id: 'ansible_playbook',
    name: 'Ansible Playbook',
    description: '运行 Ansible Playbook',
    category: 'deploy',
    icon: 'ansible',
    config_schema: {
      type: 'object',
      properties: {
        playbook: { type: 'string', title: 'Playbook', description: 'Path relative to the workspace', minLength: 1, maxLength: 1024 },
        inventory_name: {
          type: 'string',
          title: 'Stored inventory',
          description: "The name of one of the project's inventories (its SSH, become and vault credentials come with it)",
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$',
        },
        inventory: {
          type: 'string',
          title: 'Inventory file',
          description: 'An inventory file of the repository (relative to the workspace) or a comma-separated host list; not with a stored inventory',
          maxLength: 4096,
        },
        extra_vars: {
          type: 'object',
          title: 'Extra vars',
          description: 'Passed as JSON with --extra-vars (secret-looking values are masked in the log)',
          maxProperties: 200,
        },
        limit: { type: 'string', title: 'Limit', description: 'Hosts or groups (--limit)', maxLength: 1024 },
        tags: { type: 'array', title: 'Tags', items: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', maxLength: 128 }, maxItems: 100 },
        skip_tags: { type: 'array', title: 'Skip tags', items: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', maxLength: 128 }, maxItems: 100 },
        check_mode: { type: 'boolean', title: 'Check mode', description: 'Dry run (--check)', default: false },
        diff: { type: 'boolean', title: 'Diff', description: 'Show what changes in files and templates (--diff)', default: false },
        verbosity: { type: 'integer', title: 'Verbosity', description: '0-4 (-v to -vvvv)', minimum: 0, maximum: 4, default: 0 },
        forks: { type: 'integer', title: 'Forks', description: 'Hosts at once (--forks)', minimum: 1, maximum: 500 },
        become: { type: 'boolean', title: 'Become', description: 'Run tasks with privilege escalation (--become)', default: false },
        ssh_credential: {
          type: 'string',
          title: 'SSH credential',
          description: "An ssh_key credential for the connection (default: the inventory's)",
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$',
        },
        become_credential: {
          type: 'string',
          title: 'Become credential',
          description: "A username_password credential: the user to become and its password (default: the inventory's)",
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$',
        },
        vault_credentials: {
          type: 'array',
          title: 'Vault credentials',
          description: "ansible_vault_password credentials, one per vault id (default: the inventory's)",
          items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' },
          maxItems: 10,
        },
      },
      required: ['playbook'],
      additionalProperties: false,
    },
  },
  {
    id: 'jenkins_job',
    name: 'Jenkins Job',
    description: '触发 Jenkins 任务',
    category: 'integration',
    icon: 'jenkins',
    config_schema: {
      type: 'object',
      properties: {
        job_name: {
          type: 'string',
          title: 'Job',
          description: 'Job name; folders as a/b',
          minLength: 1,
          maxLength: 1024,
          pattern: '^[^/\\s][^\\s]*$',
        },
        parameters: stringMap('Parameters', 'Build parameters'),
      },
      required: ['job_name'],
      additionalProperties: false,
    },
  },
];

export const STEP_TYPE_IDS = STEP_TYPES.map((t) => t.id);

export function findStepType(id: string): StepType | undefined {
  return STEP_TYPES.find((t) => t.id === id);
}
