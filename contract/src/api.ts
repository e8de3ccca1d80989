/**
 * The client an SPA would write around the generated types: a bearer token on every
 * request, and a 401 answered once by refreshing the token pair and retrying.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "../build/schema.js";

/** The tokens a client keeps itself; in cookie mode the browser keeps `refresh` instead. */
export interface TokenPair {
  access: string;
  refresh: string;
}

/** The pair in a sign-in or refresh answer, or null when it carries no refresh token. */
export function tokenPair(token: components["schemas"]["Token"] | undefined): TokenPair | null {
  if (token?.refresh === undefined) {
    return null;
  }
  return { access: token.access, refresh: token.refresh };
}

export interface Session {
  tokens: TokenPair | null;
}

export type Api = Client<paths>;

export function createApi(baseUrl: string, session: Session): Api {
  const api = createClient<paths>({ baseUrl });
  // Refreshing goes through a client of its own, so it never meets the middleware below.
  const auth = createClient<paths>({ baseUrl });
  const retries = new WeakMap<Request, Request>();
  let refreshing: Promise<boolean> | null = null;

  // Access tokens are short-lived and refresh tokens rotate: concurrent 401s share one
  // refresh, since a second refresh with the same (now blacklisted) token would fail.
  async function refresh(): Promise<boolean> {
    const tokens = session.tokens;
    if (tokens === null) {
      return false;
    }
    const { data } = await auth.POST("/api/v1/auth/token/refresh/", {
      body: { refresh: tokens.refresh },
    });
    session.tokens = tokenPair(data);
    return session.tokens !== null;
  }

  const bearer: Middleware = {
    onRequest({ request }) {
      if (session.tokens !== null) {
        request.headers.set("Authorization", `Bearer ${session.tokens.access}`);
        retries.set(request, request.clone());
      }
      return request;
    },
    async onResponse({ request, response }) {
      const retry = retries.get(request);
      if (response.status !== 401 || retry === undefined) {
        return response;
      }
      refreshing ??= refresh().finally(() => {
        refreshing = null;
      });
      if (!(await refreshing) || session.tokens === null) {
        return response;
      }
      retry.headers.set("Authorization", `Bearer ${session.tokens.access}`);
      return fetch(retry);
    },
  };
  api.use(bearer);
  return api;
}
