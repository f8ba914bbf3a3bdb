// The one libsodium binding MedLedger uses (sodium-native ships no types).
declare module 'sodium-native' {
  /** crypto_sign_verify_detached: true iff `signature` (64 bytes) is `publicKey`'s (32 bytes) over `message`. */
  function crypto_sign_verify_detached(signature: Buffer, message: Buffer, publicKey: Buffer): boolean;
  const sodium: { crypto_sign_verify_detached: typeof crypto_sign_verify_detached };
  export default sodium;
}
