// age decryption with age's own TypeScript implementation (the format agenix writes). The identity
// is a string in this process only: it is never written to a file, and errors never quote it.
import { BootError } from "./errors.ts";

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";

/** The one `AGE-SECRET-KEY-…` line of the parameter's value (age-keygen's comment lines are allowed). */
export function identityLine(value: string, parameter: string): string {
  const keys = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(line));
  if (keys.length !== 1) {
    throw new BootError(
      "IDENTITY_INVALID",
      parameter,
      `SSM parameter ${parameter} must hold exactly one AGE-SECRET-KEY-1… line, found ${keys.length}; ` +
        "set it again with pulumi config set --secret ageIdentity \"$(cat clawdinator-<n>.agekey)\" and pulumi up",
    );
  }
  return keys[0] ?? "";
}

export interface SecretDecrypter {
  decrypt(object: string, ciphertext: Buffer): Promise<Buffer>;
}

export async function openDecrypter(identity: string): Promise<SecretDecrypter> {
  const age = await import("age-encryption");
  const decrypter = new age.Decrypter();
  decrypter.addIdentity(identity);
  return {
    async decrypt(object, ciphertext) {
      const head = ciphertext.subarray(0, 64).toString("utf8").trimStart();
      const binary = head.startsWith(ARMOR_BEGIN) ? age.armor.decode(ciphertext.toString("utf8")) : new Uint8Array(ciphertext);
      try {
        return Buffer.from(await decrypter.decrypt(binary, "uint8array"));
      } catch (error) {
        throw new BootError(
          "SECRET_UNDECRYPTABLE",
          object,
          `cannot decrypt ${object} with this instance's age identity (${(error as Error).message}); ` +
            "re-encrypt it to the instance's public key (agenix -r, see docs/SECRETS.md) and pulumi up",
          { cause: error },
        );
      }
    },
  };
}
