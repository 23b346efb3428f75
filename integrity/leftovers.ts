/** Something a run made and must remove at its end: what it is, where, and how. */
export interface RunLeftover {
  what: string;
  dir: string;
  remove(): Promise<void>;
}

/**
 * Removes each leftover even when another could not be removed, and names any that stays with how a
 * person removes it, so a failed clean-up neither hides the run's own outcome nor leaves a folder
 * nobody knows about. Resolves with the folders that are left.
 */
export async function removeLeftovers(leftovers: readonly RunLeftover[], say: (line: string) => void): Promise<string[]> {
  const left: string[] = [];
  for (const leftover of leftovers) {
    try {
      await leftover.remove();
    } catch (error) {
      left.push(leftover.dir);
      say(`integrity: could not remove the ${leftover.what} ${leftover.dir} (${(error as Error).message}); unmount what is mounted under it (findmnt -R ${leftover.dir}), then rm -rf it`);
    }
  }
  return left;
}
