/** Where a command writes; tests pass collectors instead of the process streams. */
export interface CliOutput {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export const PROCESS_OUTPUT: CliOutput = {
  stdout: (line) => {
    process.stdout.write(`${line}\n`);
  },
  stderr: (line) => {
    process.stderr.write(`${line}\n`);
  },
};
