// A relying party nobody here wrote: panva's openid-client (OpenID Certified)
// signs in against the stack's provider.
//   node relying_party.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Prints {"authorization_url": ...} on one line, reads the URL the browser
// was redirected to on stdin, then prints one JSON line with what it saw:
// the validated ID token's claims, userinfo, a refresh and a revocation.
// The http:// issuer on localhost needs allowInsecureRequests: tests only.
import * as client from "openid-client";
import { createInterface } from "node:readline";

const [issuer, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const execute = [client.allowInsecureRequests, client.enableNonRepudiationChecks];
const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, { execute });

const codeVerifier = client.randomPKCECodeVerifier();
const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: "openid email profile offline_access",
  code_challenge: codeChallenge,
  code_challenge_method: "S256",
  state,
  nonce,
});
console.log(JSON.stringify({ authorization_url: authorizationUrl.href }));

const lines = createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => lines.once("line", resolve));
lines.close();

const result = {};
try {
  // Checks state, iss (RFC 9207), PKCE, and the ID token: signature against
  // the published key set (non-repudiation checks), iss, aud, exp, nonce.
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  result.claims = claims;
  result.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  result.refreshed = { access_token: refreshed.access_token, rotated: refreshed.refresh_token !== tokens.refresh_token };
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: "refresh_token" });
  result.revoked_access_token = refreshed.access_token;
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = `${error.code || ""} ${error.message} ${JSON.stringify(error.cause || "")}`;
}
console.log(JSON.stringify(result));
