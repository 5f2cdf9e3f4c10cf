import type { AuthService } from '../../services/auth/auth-service.js';
import type { UsersService } from '../../services/users-service.js';
import type { PipelinesService } from '../../services/pipelines-service.js';
import type { RunsService } from '../../services/runs/runs-service.js';
import type { CredentialsService } from '../../services/credentials-service.js';
import type { ProjectsService } from '../../services/projects/projects-service.js';
import type { PersonalTokens } from '../../services/auth/personal-tokens.js';
import type { AuditLog } from '../../services/audit/audit-log.js';
import type { SsoService } from '../../services/auth/sso/sso-service.js';

/** What the management API's routes need: services only, never repositories or the database. */
export interface ApiDeps {
  auth: AuthService;
  users: UsersService;
  pipelines: PipelinesService;
  runs: RunsService;
  credentials: CredentialsService;
  projects: ProjectsService;
  personalTokens: PersonalTokens;
  audit: AuditLog;
  /** Single sign-on; null when no provider is configured. */
  sso: SsoService | null;
  /** Whether password sign-in is on for everyone (else only the break-glass account). */
  passwordLogin: boolean;
  version: string;
  gatewayUrl: string;
}
