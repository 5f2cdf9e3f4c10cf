/** Sign-in methods and single sign-on (OpenID Connect). */
import { Type } from 'typebox';
import { LoginResponse } from './users.js';

export const LoginMethodsResponse = Type.Object({
  /** False when password sign-in is off (only the break-glass account may still use it). */
  password: Type.Boolean(),
  sso: Type.Union([Type.Object({ name: Type.String() }), Type.Null()]),
});

export const SsoStartBody = Type.Object(
  { next: Type.Optional(Type.String({ maxLength: 512, description: 'A path of this site to land on after sign-in' })) },
  { additionalProperties: false },
);
export const SsoStartResponse = Type.Object({ authorization_url: Type.String() });

export const SsoExchangeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const SsoExchangeResponse = Type.Object({ ...LoginResponse.properties, next: Type.String() });
