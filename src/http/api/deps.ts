import type { AuthService } from '../../services/auth/auth-service.js';
import type { UsersService } from '../../services/users-service.js';
import type { PipelinesService } from '../../services/pipelines-service.js';
import type { RunsService } from '../../services/runs/runs-service.js';
import type { CredentialsService } from '../../services/credentials-service.js';

/** What the management API's routes need: services only, never repositories or the database. */
export interface ApiDeps {
  auth: AuthService;
  users: UsersService;
  pipelines: PipelinesService;
  runs: RunsService;
  credentials: CredentialsService;
  version: string;
  gatewayUrl: string;
}
