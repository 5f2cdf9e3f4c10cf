/** Personal access tokens of the signed-in user: list, create (the token is in that answer only), revoke. */
import { Type } from 'typebox';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { CreatedTokenSchema, TokenCreateBody, TokenSchema } from '../schemas/tokens.js';
import type { PersonalToken } from '../../store/personal-tokens-repository.js';

const tokenBody = (t: PersonalToken) => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  created_at: t.created_at,
  expires_at: t.expires_at,
  last_used_at: t.last_used_at,
});

export function tokensRoutes(app: App, { personalTokens }: ApiDeps) {
  app.get(
    '/api/users/me/tokens/',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Your personal access tokens (never the tokens themselves)',
        response: { 200: Type.Array(TokenSchema), ...errorResponses(401, 403) },
      },
    },
    async (request) => (await personalTokens.list(currentUser(request))).map(tokenBody),
  );

  app.post(
    '/api/users/me/tokens/',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create a personal access token (shown once, in this answer)',
        body: TokenCreateBody,
        response: { 201: CreatedTokenSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { token, secret } = await personalTokens.create(currentUser(request), request.body);
      return reply
        .code(201)
        .header('Cache-Control', 'no-store')
        .send({ ...tokenBody(token), token: secret });
    },
  );

  app.delete(
    '/api/users/me/tokens/:id/',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke one of your tokens (it stops working at once)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await personalTokens.revoke(currentUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
