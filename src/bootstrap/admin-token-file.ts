// The admin token file holds the bootstrap administrator's token, owner-only. A file that cannot be written is one
// line naming it and the setting that moves it, for the first start and for `verifyd admin token` alike.
import { writeOwnerOnlyFile } from "../crypto/owner-only-file.js";
import { StartupError } from "../startup-error.js";

export function writeAdminTokenFile(path: string, content: string): void {
  try {
    writeOwnerOnlyFile(path, content);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new StartupError(
      `cannot write the admin token file ${path} (${code ?? message}); make its directory writable by this user, or choose another file with --admin-token-file / ADMIN_TOKEN_FILE`,
    );
  }
}
