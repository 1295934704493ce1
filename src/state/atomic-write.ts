/**
 * Replacing a file so that readers and crashes only ever see the old or the new content:
 * write a temp file in the same directory (so the rename cannot cross filesystems), fsync it,
 * rename it over the target (atomic on POSIX), then fsync the directory so the rename itself
 * survives a power cut.
 */
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** Creates `path` (never reusing an existing file), writes `text` and flushes it to disk. */
export type WriteTempFile = (path: string, text: string) => Promise<void>;

export const writeTempFileDurably: WriteTempFile = async (path, text) => {
  const handle = await open(path, "wx", 0o644);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
};

export async function replaceFileAtomically(
  path: string,
  tempPath: string,
  text: string,
  writeTemp: WriteTempFile = writeTempFileDurably,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeTemp(tempPath, text);
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Best effort: some platforms and filesystems refuse to open or fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The rename is done; only its durability across a power cut is less certain.
  }
}
