"use strict";
// The authstack page. It talks to the stack's API on this origin in cookie
// mode (docs/API.md, "Browsers"): the refresh token stays in an HttpOnly
// cookie the page can't read; the access token lives only in this script's
// memory, so a reload restores the session through one refresh.

const COOKIE_MODE = { "X-Auth-Mode": "cookie" };
const SESSION_ENDED = "Your session has ended; log in again.";

const state = { accessToken: null, refreshing: null, linkToken: null, mfaToken: null };

/** A failed call: the API's JSON error (status 0 when the server can't be reached). */
class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.code = body && body.error;
  }
}

/** The session can't be restored; the page has already switched to "signed out". */
class SessionEnded extends Error {}

function describe(status, body) {
  if (!body || typeof body.message !== "string") {
    return status === 0
      ? "The server can't be reached; try again in a moment."
      : `The server answered ${status}; try again in a moment.`;
  }
  // A validation error's message is general; which field is at fault is in ``fields``.
  const fields = status === 422 ? Object.entries(body.fields || {}) : [];
  const problems = fields.map(([name, problem]) => `${name.replace("_", " ")} ${problem}`);
  return problems.length ? `${body.message} (${problems.join("; ")})` : body.message;
}

/** One HTTP call to the API; resolves to the JSON body (null for 204), rejects with ApiError. */
async function call(method, path, { body, headers = {}, bearer = false } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (bearer) sent.Authorization = `Bearer ${state.accessToken}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * Trade the refresh cookie for a new access token.
 *
 * One refresh at a time, in this tab (a shared promise) and across tabs (a
 * Web Lock): two refreshes with one refresh token look like a stolen token,
 * which ends the session.
 */
function refresh() {
  if (!state.refreshing) {
    const run = () => call("POST", "/auth/refresh", { headers: COOKIE_MODE });
    const locked = navigator.locks ? navigator.locks.request("authstack-refresh", run) : run();
    state.refreshing = locked
      .then((tokens) => {
        state.accessToken = tokens.access_token;
      })
      .finally(() => {
        state.refreshing = null;
      });
  }
  return state.refreshing;
}

/** A call with the access token; a missing or refused one is refreshed once through the cookie. */
async function authed(method, path, options = {}) {
  if (state.accessToken) {
    try {
      return await call(method, path, { ...options, bearer: true });
    } catch (error) {
      if (error.status !== 401) throw error;
    }
  }
  try {
    await refresh();
  } catch (error) {
    if (error.status === 401) {
      showSignedOut(SESSION_ENDED);
      throw new SessionEnded();
    }
    throw error;
  }
  return call(method, path, { ...options, bearer: true });
}

// --- what the page shows --------------------------------------------------------------------

const $ = (selector) => document.querySelector(selector);

function notify(text) {
  $("#notice").textContent = text;
}

function showSignedOut(message = "") {
  state.accessToken = null;
  showLoginStep();
  // A new token is a secret on screen: it goes with the session.
  $("#new-token-value").value = "";
  $("#new-token").hidden = true;
  $("#signed-in").hidden = true;
  $("#signed-out").hidden = false;
  notify(message);
}

async function showSignedIn() {
  $("#signed-out").hidden = true;
  $("#signed-in").hidden = false;
  // Each part shows its own failure, like its buttons do.
  await Promise.all([
    act($("#whoami-button"), whoAmI),
    act($("#sessions-button"), listSessions),
    act($("#mfa-status"), showMfaStatus),
    act($("#activity-button"), listActivity),
    act($("#tokens-button"), listTokens),
    act($("#passkeys"), listPasskeys),
  ]);
}

async function whoAmI() {
  const me = await authed("GET", "/api/v1/me");
  for (const cell of document.querySelectorAll("#whoami [data-field]")) {
    const value = me[cell.dataset.field];
    if (cell.dataset.field === "expires_at") cell.textContent = new Date(value * 1000).toLocaleString();
    else if (cell.dataset.field === "email_verified") cell.textContent = value ? "verified" : "not verified yet";
    else cell.textContent = Array.isArray(value) ? value.join(", ") || "none" : String(value);
  }
  $("#password-username").value = me.username;
  $("#admin").hidden = !me.roles.includes("admin");
  $("#resend-button").hidden = me.email_verified;
}

async function resendVerification() {
  const answer = await authed("POST", "/auth/email/verify/resend");
  notify(answer.message);
}

/** "Firefox on Linux" from a user-agent string; the raw string when nothing is recognised. */
function device(userAgent) {
  if (!userAgent) return "unknown device";
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\//, "Firefox"],
    [/Chrom(e|ium)\//, "Chrome"],
    [/Safari\//, "Safari"],
    [/curl\//, "curl"],
    [/python-requests\//, "Python requests"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone|iPad|iPod/, "iOS"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const find = (list) => (list.find(([pattern]) => pattern.test(userAgent)) || [])[1];
  const browser = find(browsers);
  const system = find(systems);
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || userAgent;
}

const ACTIVITY = {
  authn_login_success: "Signed in",
  authn_login_fail: "Failed sign-in",
  authn_login_lock: "Sign-in paused after failures",
  authn_password_change: "Password change",
  authn_token_reuse: "A used refresh token came back",
  session_created: "Session opened",
  session_revoked: "Sessions ended",
  mfa_enabled: "Two-factor authentication turned on",
  mfa_disabled: "Two-factor authentication turned off",
  mfa_failed: "Wrong two-factor code",
  mfa_recovery_code_used: "Recovery code used",
  mfa_recovery_codes_renewed: "New recovery codes",
  mfa_reset_by_admin: "Second factors removed by an admin",
  passkey_added: "Passkey added",
  passkey_removed: "Passkey removed",
  passkey_login: "Signed in with a passkey",
  passkey_failed: "Passkey refused",
};

async function listActivity() {
  const { events } = await authed("GET", "/auth/events?limit=20");
  const items = events.map((event) => {
    const item = document.createElement("li");
    const failed = event.result === "failure" ? " (failed)" : "";
    item.textContent = `${when(event.time)} · ${ACTIVITY[event.action] || event.action}${failed} · ${device(event.user_agent)}${event.client_ip ? ` · ${event.client_ip}` : ""}`;
    return item;
  });
  $("#activity").replaceChildren(...items);
}

function when(iso) {
  return new Date(iso).toLocaleString();
}

async function listSessions() {
  const { sessions } = await authed("GET", "/auth/sessions");
  const items = sessions.map((session) => {
    const item = document.createElement("li");
    const about = document.createElement("span");
    about.className = "about";
    about.textContent = `${device(session.user_agent)} · ${session.ip} · since ${when(session.created_at)} · last used ${when(session.last_used_at)}`;
    about.title = session.user_agent;
    if (session.current) {
      const mark = document.createElement("strong");
      mark.textContent = "This device";
      item.append(mark, " ");
    }
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Log out";
    button.addEventListener("click", () =>
      act(button, session.current ? logOut : () => endSession(session.id)),
    );
    item.append(about, " ", button);
    return item;
  });
  $("#sessions").replaceChildren(...items);
}

function day(iso) {
  return new Date(iso).toLocaleDateString();
}

async function listTokens() {
  const { tokens } = await authed("GET", "/auth/tokens");
  const items = tokens.map((token) => {
    const item = document.createElement("li");
    const about = document.createElement("span");
    about.className = "about";
    const used = token.last_used_at ? `last used ${when(token.last_used_at)}` : "never used";
    const roles = token.roles.join(", ") || "no roles";
    about.textContent = `${token.name} · ${roles} · expires ${day(token.expires_at)} · ${used}`;
    about.title = token.name;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Revoke";
    button.setAttribute("aria-label", `Revoke ${token.name}`);
    button.addEventListener("click", () => act(button, () => revokeToken(token)));
    item.append(about, " ", button);
    return item;
  });
  $("#tokens").replaceChildren(...items);
}

// --- actions ------------------------------------------------------------------------------------

async function logIn(values) {
  const tokens = await call("POST", "/auth/login", {
    headers: COOKIE_MODE,
    body: { username: values.username, password: values.password },
  });
  if (tokens.mfa_required) {
    showSecondStep(tokens.mfa_token, tokens.methods);
    return;
  }
  state.accessToken = tokens.access_token;
  notify("");
  await showSignedIn();
}

// --- the second step of a login -----------------------------------------------------------------

function showSecondStep(mfaToken, methods = []) {
  state.mfaToken = mfaToken;
  useRecoveryCode(!methods.includes("totp"));
  $("#mfa-passkey-button").hidden = !methods.includes("passkey");
  $("#login-form").hidden = true;
  $("#mfa-form").hidden = false;
  $("#mfa-code").focus();
  notify(
    methods.includes("passkey")
      ? "Use your passkey, or enter a code."
      : "Enter the code from your authenticator app.",
  );
}

function showLoginStep() {
  state.mfaToken = null;
  $("#mfa-form").hidden = true;
  $("#login-form").hidden = false;
}

function useRecoveryCode(recovery) {
  $("#mfa-code-label").textContent = recovery ? "Recovery code" : "Authentication code";
  $("#mfa-hint").textContent = recovery
    ? "One of the codes you kept when you turned two-factor authentication on."
    : "The 6 digits your authenticator app shows.";
  $("#mfa-code").inputMode = recovery ? "text" : "numeric";
  $("#mfa-recovery-button").hidden = recovery;
}

async function secondStep(values) {
  await finishSecondStep({ mfa_token: state.mfaToken, code: values.code.replace(/\s/g, "") });
}

/** The second step with a passkey: options for this sign-in's user, then the browser's answer. */
async function secondStepWithPasskey() {
  const options = await call("POST", "/auth/login/mfa/passkey/options", { body: { mfa_token: state.mfaToken } });
  const credential = await getPasskey(options);
  await finishSecondStep({ mfa_token: state.mfaToken, credential });
}

async function finishSecondStep(body) {
  let tokens;
  try {
    tokens = await call("POST", "/auth/login/mfa", { headers: COOKIE_MODE, body });
  } catch (error) {
    if (error.code === "invalid_mfa_token") {
      showSignedOut("That sign-in has expired; log in again.");
      return;
    }
    throw error;
  } finally {
    $("#mfa-code").value = "";
  }
  state.accessToken = tokens.access_token;
  showLoginStep();
  notify("");
  await showSignedIn();
}

// --- two-factor settings ------------------------------------------------------------------------

async function showMfaStatus() {
  const status = await authed("GET", "/auth/mfa");
  const factors = [status.totp ? "an authenticator app" : "", status.passkeys ? `${status.passkeys} passkey(s)` : ""];
  const on = factors.filter(Boolean).join(" and ");
  $("#mfa-status").textContent = on
    ? `On: ${on}. Recovery codes left: ${status.recovery_codes_left}.`
    : "Off: your password alone signs you in.";
  $("#totp-setup-form").hidden = status.totp;
  $("#totp-disable-form").hidden = !status.totp;
  if (status.totp) $("#totp-pending").hidden = true;
}

/** The server's QR code (SVG markup) as a node: parsed as SVG, never as HTML; no script runs. */
function svgNode(markup) {
  const parsed = new DOMParser().parseFromString(markup, "image/svg+xml");
  const svg = parsed.documentElement;
  if (svg.nodeName !== "svg") throw new Error("The QR code could not be shown; type the secret instead.");
  return document.importNode(svg, true);
}

async function setUpTotp(values) {
  const setup = await authed("POST", "/auth/mfa/totp", { body: { password: values.password } });
  $("#totp-secret").textContent = setup.secret;
  $("#totp-pending").hidden = false;
  $("#recovery-codes-box").hidden = true;
  $("#totp-qr").replaceChildren(svgNode(setup.qr_svg));
  $("#totp-confirm-code").focus();
}

async function confirmTotp(values) {
  const { recovery_codes: codes } = await authed("POST", "/auth/mfa/totp/confirm", {
    body: { code: values.code.replace(/\s/g, "") },
  });
  $("#totp-confirm-code").value = "";
  $("#totp-pending").hidden = true;
  $("#totp-qr").replaceChildren();
  $("#totp-secret").textContent = "";
  if (codes.length) showRecoveryCodes(codes);
  notify("Two-factor authentication is on; your other sessions have ended.");
  await Promise.all([showMfaStatus(), listSessions()]);
}

/** Recovery codes, shown this once. */
function showRecoveryCodes(codes) {
  const items = codes.map((code) => {
    const item = document.createElement("li");
    item.textContent = code;
    return item;
  });
  $("#recovery-codes").replaceChildren(...items);
  $("#recovery-codes-box").hidden = false;
}

// --- passkeys (WebAuthn) ------------------------------------------------------------------------

/** The browser reads and writes WebAuthn's JSON forms itself (Level 3); without them, no passkeys here. */
function requirePasskeys() {
  const api = window.PublicKeyCredential;
  if (!api || typeof api.parseCreationOptionsFromJSON !== "function") {
    throw new Error("This browser can't use passkeys here; use your password.");
  }
}

/** Ask the browser for a passkey answering request options (JSON form); the credential as JSON. */
async function getPasskey(options) {
  requirePasskeys();
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey });
  return credential.toJSON();
}

async function signInWithPasskey() {
  const options = await call("POST", "/auth/passkeys/login/options", { body: {} });
  const credential = await getPasskey(options);
  const tokens = await call("POST", "/auth/passkeys/login", { headers: COOKIE_MODE, body: { credential } });
  state.accessToken = tokens.access_token;
  notify("");
  await showSignedIn();
}

async function addPasskey(values) {
  requirePasskeys();
  const options = await authed("POST", "/auth/passkeys/register/options", { body: {} });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  const added = await authed("POST", "/auth/passkeys/register", {
    body: { credential: credential.toJSON(), name: values.name },
  });
  $("#passkey-name").value = "";
  if (added.recovery_codes) {
    showRecoveryCodes(added.recovery_codes);
    notify(`Passkey ${added.name} added. Two-factor authentication is on; your other sessions have ended.`);
  } else {
    notify(`Passkey ${added.name} added.`);
  }
  await Promise.all([listPasskeys(), showMfaStatus(), listSessions()]);
}

async function listPasskeys() {
  const { passkeys } = await authed("GET", "/auth/passkeys");
  const items = passkeys.map((passkey) => {
    const item = document.createElement("li");
    const about = document.createElement("span");
    about.className = "about";
    const used = passkey.last_used_at ? `last used ${when(passkey.last_used_at)}` : "never used";
    about.textContent = `${passkey.name} · added ${when(passkey.created_at)} · ${used}`;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Remove";
    button.setAttribute("aria-label", `Remove ${passkey.name}`);
    button.addEventListener("click", () => act(button, () => removePasskey(passkey)));
    item.append(about, " ", button);
    return item;
  });
  $("#passkeys").replaceChildren(...items);
}

async function removePasskey(passkey) {
  await authed("DELETE", `/auth/passkeys/${encodeURIComponent(passkey.id)}`);
  notify(`Passkey ${passkey.name} removed.`);
  await Promise.all([listPasskeys(), showMfaStatus()]);
}

async function copyRecoveryCodes() {
  const codes = [...document.querySelectorAll("#recovery-codes li")].map((item) => item.textContent);
  await navigator.clipboard.writeText(codes.join("\n"));
  notify("Recovery codes copied.");
}

async function turnOffTotp(values) {
  await authed("DELETE", "/auth/mfa/totp", {
    body: { password: values.password, code: values.code.replace(/\s/g, "") },
  });
  $("#totp-disable-code").value = "";
  $("#recovery-codes-box").hidden = true;
  $("#recovery-codes").replaceChildren();
  notify("Two-factor authentication is off.");
  await showMfaStatus();
}

async function signUp(values) {
  const user = await call("POST", "/auth/signup", { body: values });
  $("#login-username").value = user.username;
  notify(`Account ${user.username} created; you can log in now.`);
}

async function forgotPassword(values) {
  const answer = await call("POST", "/auth/password/forgot", { body: { email: values.email } });
  notify(answer.message);
}

async function resetPassword(values) {
  await call("POST", "/auth/password/reset", {
    body: { token: state.linkToken, new_password: values.new_password },
  });
  state.linkToken = null;
  history.replaceState(null, "", "/");
  $("#reset").hidden = true;
  showSignedOut("Your password is reset and every session has ended; log in with the new one.");
}

/** The token of a mailed link: it travels in the fragment, which no server ever receives. */
function linkToken() {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  return match ? match[1] : "";
}

/** Follow a mailed verification link; what happened, for the notice. */
async function verifyEmail() {
  const token = linkToken();
  history.replaceState(null, "", "/");
  try {
    await call("POST", "/auth/email/verify", { body: { token } });
    return "Your email address is verified.";
  } catch (error) {
    return error.message;
  }
}

async function logOut() {
  await authed("POST", "/auth/logout", { headers: COOKIE_MODE });
  showSignedOut("You are logged out.");
}

async function logOutEverywhere() {
  await authed("POST", "/auth/logout-all", { headers: COOKIE_MODE });
  showSignedOut("You are logged out on every device.");
}

async function endSession(id) {
  await authed("DELETE", `/auth/sessions/${encodeURIComponent(id)}`);
  notify("That device is logged out.");
  await listSessions();
}

async function createToken(values) {
  const days = Number(values.expires_in_days);
  const created = await authed("POST", "/auth/tokens", {
    // A number as typed; anything else goes as it is, for the service to refuse clearly.
    body: { name: values.name, expires_in_days: Number.isInteger(days) ? days : values.expires_in_days },
  });
  $("#new-token-value").value = created.token;
  $("#new-token").hidden = false;
  $("#token-name").value = "";
  notify(`Token ${created.name} created; copy it now, it is shown only once.`);
  await listTokens();
}

async function copyToken() {
  const field = $("#new-token-value");
  field.select();
  await navigator.clipboard.writeText(field.value);
  notify("Token copied.");
}

async function revokeToken(token) {
  await authed("DELETE", `/auth/tokens/${encodeURIComponent(token.id)}`);
  notify(`Token ${token.name} revoked.`);
  await listTokens();
}

async function changePassword(values) {
  await authed("POST", "/auth/password", { body: values });
  notify("Password changed; your other sessions have ended.");
  await listSessions();
}

async function administer(values, action) {
  const user = encodeURIComponent(values.username);
  const role = encodeURIComponent(values.role);
  if (action === "disable") {
    await authed("POST", `/auth/users/${user}/disable`);
    notify(`${values.username} is disabled; their sessions have ended.`);
  } else {
    await authed(action === "grant" ? "PUT" : "DELETE", `/auth/users/${user}/roles/${role}`);
    notify(`${values.username}: role ${values.role} ${action === "grant" ? "granted" : "removed"}.`);
  }
}

// --- wiring: every action shows its error beside it and leaves the page usable ------------------

/** Run ``work`` for a control; its failure is shown in the nearest alert, as text. */
async function act(control, work) {
  const container = control.closest("form, section");
  const alert = container.querySelector("[role=alert]");
  alert.textContent = "";
  control.disabled = true;
  try {
    await work();
  } catch (error) {
    if (!(error instanceof SessionEnded)) alert.textContent = error.message;
  } finally {
    control.disabled = false;
  }
}

function onSubmit(form, work) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const action = event.submitter && event.submitter.value;
    act(event.submitter || form, async () => {
      try {
        await work(values, action);
      } finally {
        // Nothing typed is lost, except passwords: those never stay on screen.
        for (const input of form.querySelectorAll("input[type=password]")) input.value = "";
      }
    });
  });
}

function onClick(selector, work) {
  const button = $(selector);
  button.addEventListener("click", () => act(button, work));
}

async function start() {
  onSubmit($("#login-form"), logIn);
  onSubmit($("#signup-form"), signUp);
  onSubmit($("#password-form"), changePassword);
  onSubmit($("#admin-form"), administer);
  onSubmit($("#forgot-form"), forgotPassword);
  onSubmit($("#reset-form"), resetPassword);
  onSubmit($("#mfa-form"), secondStep);
  onSubmit($("#totp-setup-form"), setUpTotp);
  onSubmit($("#totp-confirm-form"), confirmTotp);
  onSubmit($("#totp-disable-form"), turnOffTotp);
  onSubmit($("#passkey-add-form"), addPasskey);
  onClick("#passkey-login-button", signInWithPasskey);
  onClick("#mfa-passkey-button", secondStepWithPasskey);
  $("#mfa-recovery-button").addEventListener("click", () => {
    useRecoveryCode(true);
    $("#mfa-code").focus();
  });
  onClick("#copy-codes-button", copyRecoveryCodes);
  onClick("#resend-button", resendVerification);
  onClick("#activity-button", listActivity);
  onClick("#whoami-button", whoAmI);
  onClick("#sessions-button", listSessions);
  onSubmit($("#token-form"), createToken);
  onClick("#tokens-button", listTokens);
  onClick("#copy-token-button", copyToken);
  onClick("#logout-button", logOut);
  onClick("#logout-all-button", logOutEverywhere);
  if (location.pathname === "/reset-password") {
    state.linkToken = linkToken();
    $("#reset").hidden = false;
    return;
  }
  const notice = location.pathname === "/verify-email" ? await verifyEmail() : "";
  try {
    await refresh();
  } catch (error) {
    // 401: no cookie, or its session ended: simply signed out.
    showSignedOut(error.status === 401 ? notice : error.message);
    return;
  }
  notify(notice);
  await showSignedIn();
}

start();
