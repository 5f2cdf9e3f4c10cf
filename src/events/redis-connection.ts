import type { Redis } from 'ioredis';

/** quit() waits for a connection that may never come back; a connection that is not up is just dropped. */
export async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit();
  else connection.disconnect();
}
