/**
 * The whole API through the generated types only, against a live server: what an SPA does,
 * compiled with `tsc --strict`, with no cast, `any`, non-null assertion or compiler
 * directive (`lint.mjs` checks). Any failed expectation exits non-zero.
 *
 * API_URL is the server's origin; ADMIN_EMAIL and ADMIN_PASSWORD a superuser's credentials.
 */
import createClient from "openapi-fetch";

import { createApi, tokenPair, type Session } from "./api.js";
import type { components, paths } from "../build/schema.js";

type Item = components["schemas"]["Item"];

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(`Expectation failed: ${message}`);
  }
}

function expectStatus(response: Response, status: number, step: string): void {
  check(response.status === status, `${step}: status ${response.status}, expected ${status}`);
}

function pageOf(link: string | null): number | undefined {
  // `next` and `previous` are absolute URLs; the typed client takes the page number.
  if (link === null) {
    return undefined;
  }
  const page = new URL(link).searchParams.get("page");
  return page === null ? 1 : Number(page);
}

const baseUrl = setting("API_URL");
const adminEmail = setting("ADMIN_EMAIL");
const adminPassword = setting("ADMIN_PASSWORD");
const email = `contract-${Date.now()}@example.com`;
const password = "Contract-passw0rd!";
const newPassword = "Contract-passw0rd-2!";

const anonymous = createClient<paths>({ baseUrl });
const session: Session = { tokens: null };
const api = createApi(baseUrl, session);

async function signIn(target: Session, who: string, secret: string): Promise<void> {
  const { data, response } = await anonymous.POST("/api/v1/auth/token/", {
    body: { email: who, password: secret },
  });
  expectStatus(response, 200, `sign in as ${who}`);
  target.tokens = tokenPair(data);
  check(target.tokens !== null, "sign in returns a token pair");
}

async function health(): Promise<void> {
  const live = await anonymous.GET("/api/v1/health/live/");
  check(live.data?.status === "ok", "health/live is ok");
  const ready = await anonymous.GET("/api/v1/health/ready/");
  check(ready.data?.checks.database === "ok", "health/ready: the database answers");
}

async function registerAndSignIn(): Promise<void> {
  const created = await anonymous.POST("/api/v1/auth/register/", {
    body: { email, password, full_name: "Contract Client" },
  });
  expectStatus(created.response, 201, "register");
  check(created.data?.email === email, "register returns the user");

  // A 400 read as field errors: the error is the union of the operation's error bodies,
  // and the field narrows it to the 400's.
  const taken = await anonymous.POST("/api/v1/auth/register/", {
    body: { email: email.toUpperCase(), password },
  });
  expectStatus(taken.response, 400, "register an email taken in another case");
  const takenErrors = taken.error !== undefined && "email" in taken.error ? taken.error.email : [];
  check((takenErrors ?? []).length > 0, "a taken email is named in `email`");
  const weak = await anonymous.POST("/api/v1/auth/register/", {
    body: { email: `weak-${email}`, password: "123" },
  });
  expectStatus(weak.response, 400, "register with a weak password");
  const weakErrors = weak.error && "password" in weak.error ? weak.error.password : [];
  check((weakErrors ?? []).length > 0, "a weak password is named in `password`");

  await signIn(session, email, password);
  const me = await api.GET("/api/v1/users/me/");
  check(me.data?.email === email, "users/me is the new account");
  check(me.data.full_name === "Contract Client", "users/me has the full name");
  check(!me.data.is_superuser, "a new account is no superuser");

  const renamed = await api.PATCH("/api/v1/users/me/", { body: { full_name: "Renamed" } });
  check(renamed.data?.full_name === "Renamed", "users/me can be renamed");
}

async function items(): Promise<Item> {
  const titles = ["charlie", "alpha", "bravo"];
  const created: Item[] = [];
  for (const title of titles) {
    const { data, response } = await api.POST("/api/v1/items/", {
      body: { title, description: `The ${title} item` },
    });
    expectStatus(response, 201, `create ${title}`);
    check(data !== undefined, "create returns the item");
    created.push(data);
  }
  const invalid = await api.POST("/api/v1/items/", { body: { title: "" } });
  expectStatus(invalid.response, 400, "create without a title");
  const titleErrors = invalid.error && "title" in invalid.error ? invalid.error.title : [];
  check((titleErrors ?? []).length > 0, "a blank title is named in `title`");

  // Pages of two, following `next` to the end.
  const seen: string[] = [];
  let page: number | undefined = 1;
  while (page !== undefined) {
    const { data } = await api.GET("/api/v1/items/", {
      params: { query: { page, page_size: 2 } },
    });
    check(data !== undefined, `items page ${page}`);
    check(data.count === 3, "the list counts every item");
    seen.push(...data.results.map((item) => item.title));
    page = pageOf(data.next);
  }
  check(seen.join() === "bravo,alpha,charlie", `newest first over two pages: ${seen.join()}`);
  const last = await api.GET("/api/v1/items/", {
    params: { query: { page: "last", page_size: 2 } },
  });
  check(last.data?.previous !== null && last.data?.next === null, "page=last is the last page");

  const found = await api.GET("/api/v1/items/", { params: { query: { search: "BRAVO" } } });
  check(found.data?.results.length === 1, "search matches case-insensitively");

  const sorted = await api.GET("/api/v1/items/", { params: { query: { ordering: "-title" } } });
  const order = (sorted.data?.results ?? []).map((item) => item.title).join();
  check(order === "charlie,bravo,alpha", `ordering by -title: ${order}`);

  const badFilter = await api.GET("/api/v1/items/", {
    params: { query: { created_after: "yesterday" } },
  });
  expectStatus(badFilter.response, 400, "a malformed date filter");
  const filterError = badFilter.error;
  check(
    filterError !== undefined && "created_after" in filterError,
    "the filter error names the field",
  );

  const [first, second] = created;
  check(first !== undefined && second !== undefined, "two items were created");
  const patched = await api.PATCH("/api/v1/items/{id}/", {
    params: { path: { id: first.id } },
    body: { title: "charlie, renamed" },
  });
  check(patched.data?.title === "charlie, renamed", "patch renames");
  check(patched.data.description === "The charlie item", "patch keeps the description");

  const replaced = await api.PUT("/api/v1/items/{id}/", {
    params: { path: { id: first.id } },
    body: { title: "charlie", description: "Replaced" },
  });
  check(replaced.data?.title === "charlie", "put replaces the title");
  check(replaced.data.description === "Replaced", "put replaces the description");

  const removed = await api.DELETE("/api/v1/items/{id}/", {
    params: { path: { id: second.id } },
  });
  expectStatus(removed.response, 204, "delete");
  const gone = await api.GET("/api/v1/items/{id}/", { params: { path: { id: second.id } } });
  expectStatus(gone.response, 404, "a deleted item");
  check(typeof gone.error?.detail === "string", "a 404 has a detail");

  const after = await api.GET("/api/v1/items/");
  check(after.data?.count === 2, "the list no longer shows the deleted item");

  // Revalidation: the page's ETag sent back as If-None-Match is a 304 until the list changes.
  const etag = after.response.headers.get("ETag");
  check(etag !== null, "the list has an ETag");
  const unchanged = await api.GET("/api/v1/items/", {
    params: { header: { "If-None-Match": etag } },
  });
  expectStatus(unchanged.response, 304, "revalidating an unchanged list");

  const csv = await api.GET("/api/v1/items/export/", {
    params: { query: { ordering: "title" } },
    parseAs: "text",
  });
  expectStatus(csv.response, 200, "export");
  const lines = (csv.data ?? "").trim().split("\r\n");
  check(lines[0] === "id,title,description,owner,created_at,updated_at", "the CSV header");
  check(lines.length === 3, `the CSV has the two live items: ${lines.length - 1} rows`);
  check(
    csv.response.headers.get("Content-Disposition")?.startsWith("attachment") === true,
    "the export is an attachment",
  );
  return second;
}

async function emailLinks(): Promise<void> {
  // The links themselves arrive by mail; a bad one is a 400 that names the token.
  const verify = await anonymous.POST("/api/v1/auth/verify-email/", {
    body: { token: "not-a-link" },
  });
  expectStatus(verify.response, 400, "verify with a bad link");
  check(verify.error !== undefined && "token" in verify.error, "the bad link is named");
  const resend = await anonymous.POST("/api/v1/auth/verify-email/resend/", { body: { email } });
  expectStatus(resend.response, 202, "ask for a new verification link");

  const change = await api.POST("/api/v1/users/me/email/", {
    body: { new_email: `new-${email}`, current_password: password },
  });
  expectStatus(change.response, 202, "ask to change the email");
  check(typeof change.data?.detail === "string", "the same answer whether or not it is taken");
  const confirm = await anonymous.POST("/api/v1/auth/email/confirm/", {
    body: { token: "not-a-link" },
  });
  expectStatus(confirm.response, 400, "confirm with a bad link");
  const me = await api.GET("/api/v1/users/me/");
  check(me.data?.email === email, "nothing changes until the link is followed");
}

async function passwords(): Promise<void> {
  const wrong = await api.POST("/api/v1/users/me/password/", {
    body: { current_password: "not-it", new_password: newPassword },
  });
  expectStatus(wrong.response, 400, "a wrong current password");
  check(
    wrong.error !== undefined && "current_password" in wrong.error,
    "the wrong current password is named",
  );
  const changed = await api.POST("/api/v1/users/me/password/", {
    body: { current_password: password, new_password: newPassword },
  });
  expectStatus(changed.response, 204, "change the password");

  // Every token of the account ended: the middleware's refresh is refused too, so sign in.
  const ended = await api.GET("/api/v1/users/me/");
  expectStatus(ended.response, 401, "a token from before the password change");
  await signIn(session, email, newPassword);

  const reset = await anonymous.POST("/api/v1/auth/password-reset/", { body: { email } });
  expectStatus(reset.response, 202, "ask for a reset link");
  check(typeof reset.data?.detail === "string", "the same answer for every address");
  const badLink = await anonymous.POST("/api/v1/auth/password-reset/confirm/", {
    body: { uid: "nobody", token: "nothing", new_password: newPassword },
  });
  expectStatus(badLink.response, 400, "a reset with a bad link");
}

async function tokens(): Promise<void> {
  const before = session.tokens;
  check(before !== null, "signed in");

  // An expired access token is answered by the client's middleware: refresh, then retry.
  session.tokens = { ...before, access: "expired" };
  const me = await api.GET("/api/v1/users/me/");
  check(me.data?.email === email, "the middleware refreshed and retried");
  check(session.tokens !== null && session.tokens.refresh !== before.refresh, "tokens rotated");

  // The refresh token it replaced is refused from now on.
  const reused = await anonymous.POST("/api/v1/auth/token/refresh/", {
    body: { refresh: before.refresh },
  });
  expectStatus(reused.response, 401, "a used refresh token");
  const refused = reused.error;
  check(refused !== undefined && "code" in refused, "a used refresh token is a token error");
  check(refused.code === "token_not_valid", `a used refresh token: ${refused.code}`);

  const bad = await anonymous.GET("/api/v1/users/me/", {
    headers: { Authorization: "Bearer not-a-token" },
  });
  expectStatus(bad.response, 401, "a malformed access token");
  check((bad.error?.messages ?? []).length > 0, "a rejected access token lists its messages");

  const current = session.tokens;
  const malformed = await api.POST("/api/v1/auth/logout/", { body: { refresh: "garbage" } });
  expectStatus(malformed.response, 400, "logout with a malformed token");
  const logoutError = malformed.error;
  check(
    logoutError !== undefined && "refresh" in logoutError,
    "logout names the refresh token",
  );

  const out = await api.POST("/api/v1/auth/logout/", { body: { refresh: current.refresh } });
  expectStatus(out.response, 204, "logout");
  const afterLogout = await anonymous.POST("/api/v1/auth/token/refresh/", {
    body: { refresh: current.refresh },
  });
  expectStatus(afterLogout.response, 401, "refresh after logout");

  // The access token lives on until it expires; signing out everywhere ends it too.
  const stillIn = await anonymous.GET("/api/v1/users/me/", {
    headers: { Authorization: `Bearer ${current.access}` },
  });
  expectStatus(stillIn.response, 200, "the access token after logout");
  const everywhere = await api.POST("/api/v1/auth/logout/all/");
  expectStatus(everywhere.response, 204, "sign out everywhere");
  const ended = await anonymous.GET("/api/v1/users/me/", {
    headers: { Authorization: `Bearer ${current.access}` },
  });
  expectStatus(ended.response, 401, "the access token after signing out everywhere");

  // A new sign-in works at once; the account's own deletion ends its tokens.
  await signIn(session, email, newPassword);
  const signedIn = session.tokens;
  check(signedIn !== null, "signed in again");
  const deleted = await api.DELETE("/api/v1/users/me/");
  expectStatus(deleted.response, 204, "delete one's own account");
  session.tokens = null;
  const gone = await anonymous.GET("/api/v1/users/me/", {
    headers: { Authorization: `Bearer ${signedIn.access}` },
  });
  expectStatus(gone.response, 401, "a deleted account's token");
}

async function asSuperuser(deleted: Item): Promise<void> {
  const admin: Session = { tokens: null };
  await signIn(admin, adminEmail, adminPassword);
  const superuser = createApi(baseUrl, admin);

  const trash = await superuser.GET("/api/v1/items/deleted/", {
    params: { query: { search: deleted.title } },
  });
  const entry = trash.data?.results.find((item) => item.id === deleted.id);
  check(entry !== undefined, "the trash holds the deleted item");
  check(!Number.isNaN(Date.parse(entry.deleted_at)), "deleted_at is a time");

  const restored = await superuser.POST("/api/v1/items/{id}/restore/", {
    params: { path: { id: deleted.id } },
  });
  check(restored.data?.id === deleted.id, "restore returns the item");

  const forbidden = await api.GET("/api/v1/users/");
  check([401, 403].includes(forbidden.response.status), "user management is for superusers");

  const users = await superuser.GET("/api/v1/users/", {
    params: { query: { search: email, ordering: "-date_joined", is_active: true } },
  });
  const account = users.data?.results[0];
  check(users.data?.count === 1 && account !== undefined, "the superuser finds the account");
  check(account.full_name === "Renamed" && account.is_active, "with its name, active");

  const created = await superuser.POST("/api/v1/users/", {
    body: { email: `managed-${email}`, password, is_staff: true },
  });
  expectStatus(created.response, 201, "create a user");
  check(created.data !== undefined, "create a user returns it");
  const id = created.data.id;
  const fetched = await superuser.GET("/api/v1/users/{id}/", { params: { path: { id } } });
  check(fetched.data?.is_staff === true, "the new user is staff");
  const deactivated = await superuser.PATCH("/api/v1/users/{id}/", {
    params: { path: { id } },
    body: { is_active: false },
  });
  check(deactivated.data?.is_active === false, "a user can be deactivated");
  const removed = await superuser.DELETE("/api/v1/users/{id}/", { params: { path: { id } } });
  expectStatus(removed.response, 204, "delete a user");

  const self = await superuser.DELETE("/api/v1/users/me/");
  expectStatus(self.response, 403, "a superuser deleting itself");
  check(typeof self.error?.detail === "string", "the 403 has a detail");
}

async function throttled(): Promise<void> {
  // Wrong passwords until the login throttle answers; the 429 says when to come back.
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    const { error, response } = await anonymous.POST("/api/v1/auth/token/", {
      body: { email, password: "wrong-password" },
    });
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get("Retry-After"));
      check(Number.isInteger(retryAfter) && retryAfter > 0, "Retry-After is a number of seconds");
      check(typeof error?.detail === "string", "the 429 has a detail");
      return;
    }
    expectStatus(response, 401, "a wrong password");
  }
  check(false, "the login throttle never answered 429");
}

async function main(): Promise<void> {
  await health();
  await registerAndSignIn();
  const deleted = await items();
  await asSuperuser(deleted);
  await emailLinks();
  await passwords();
  await tokens();
  await throttled();
  console.log("contract: every step passed");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
