/**
 * Runs a command in this process with what it writes to stdout and stderr captured (and kept off the test's own
 * output): its exit code and both texts. The writes are replaced only while the command runs.
 *
 *   const { code, stdout, stderr } = await captureOutput(() => main(['token', '--help']));
 */
import { vi } from 'vitest';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function captureOutput(run: () => Promise<number>): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await run(), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
