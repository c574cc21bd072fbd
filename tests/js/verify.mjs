// An independent verifier: Node's `jose` fetches the stack's published key set
// through nginx and verifies access tokens the way a third-party service would.
//   node verify.mjs JWKS_URL ISSUER AUDIENCE TOKEN [TOKEN...]
// Prints one JSON line: for each token, {ok: true, sub, kid} or {ok: false, code}.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, audience, ...tokens] = process.argv.slice(2);
const keySet = createRemoteJWKSet(new URL(jwksUrl));
const results = [];
for (const token of tokens) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keySet, {
      issuer,
      audience,
      typ: "at+jwt",
      algorithms: ["EdDSA", "ES256"],
    });
    results.push({ ok: true, sub: payload.sub, kid: protectedHeader.kid, alg: protectedHeader.alg });
  } catch (error) {
    results.push({ ok: false, code: error.code || String(error) });
  }
}
console.log(JSON.stringify(results));
