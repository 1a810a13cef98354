// Node's certificate verification failures (tls.TLSSocket#authorizationError codes): the server's certificate does
// not chain to a CA the client trusts. Every client that connects over TLS (Kafka's, Postgres's) answers them the same
// way: by naming the CA setting to fix.
const UNTRUSTED_CERT_CODES: ReadonlySet<string> = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

/** Whether an error code says the server's certificate is not trusted (a missing or wrong CA setting). */
export function isUntrustedCertificateCode(code: unknown): boolean {
  return typeof code === "string" && UNTRUSTED_CERT_CODES.has(code);
}
