/**
 * Private: RS256 JSON Web Tokens signed with WebCrypto, for the service
 * accounts of BigQuery and the key pairs of Snowflake.
 *
 * @module
 */

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

function base64urlJson(value: unknown): string {
  return base64url(new TextEncoder().encode(JSON.stringify(value)));
}

/**
 * Reads a PEM private key (`-----BEGIN PRIVATE KEY-----`, PKCS #8).
 *
 * @throws {TypeError} When it is not a PKCS #8 PEM key (the message never
 * shows the key).
 */
export async function importPrivateKey(
  pem: string,
  what: string,
): Promise<CryptoKey> {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/
    .exec(
      pem.replaceAll("\\n", "\n"),
    );
  if (!match) {
    throw new TypeError(
      `The private key of ${what} is not a PKCS #8 PEM key: expected text between -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- (an encrypted or PKCS #1 "RSA PRIVATE KEY" must be converted first, e.g. with openssl pkcs8 -topk8 -nocrypt)`,
    );
  }
  const der = Uint8Array.from(
    atob((match[1] as string).replace(/\s+/g, "")),
    (c) => c.charCodeAt(0),
  );
  try {
    return await crypto.subtle.importKey(
      "pkcs8",
      der,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      true,
      ["sign"],
    );
  } catch (error) {
    throw new TypeError(
      `The private key of ${what} could not be read as an RSA key: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}

/** Signs a JWT with RS256. */
export async function signJwt(
  key: CryptoKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const body = `${base64urlJson({ alg: "RS256", typ: "JWT", ...header })}.${
    base64urlJson(claims)
  }`;
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    key,
    new TextEncoder().encode(body),
  );
  return `${body}.${base64url(new Uint8Array(signature))}`;
}

/**
 * The SHA-256 fingerprint of the public half of an RSA private key, as
 * Snowflake names it: `SHA256:` and the base64 digest of the DER
 * SubjectPublicKeyInfo.
 */
export async function publicKeyFingerprint(key: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const publicJwk: JsonWebKey = { kty: "RSA", alg: "RS256", ext: true };
  if (jwk.n !== undefined) publicJwk.n = jwk.n;
  if (jwk.e !== undefined) publicJwk.e = jwk.e;
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    publicJwk,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    true,
    ["verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
  let text = "";
  for (const byte of digest) text += String.fromCharCode(byte);
  return `SHA256:${btoa(text)}`;
}
