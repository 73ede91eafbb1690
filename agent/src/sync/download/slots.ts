// Downloads in a fixed number of slots, where a slot moves on once its item's bytes are written, not once it is finished.

/**
 * Runs `count` slots. Each takes items from `next(slot)` until it returns undefined or `stop()` says so, and runs
 * `run(item, moveOn)`. A slot takes its next item as soon as `run` calls `moveOn` (its bytes are written) or
 * settles, so the item's final fsync, hash check and adoption overlap the next transfer. Resolves once every run
 * has settled; `run` must not reject (each caller records its own failures).
 */
export async function runSlots<T>(
  count: number,
  next: (slot: number) => T | undefined,
  run: (item: T, moveOn: () => void) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  const finishing: Array<Promise<void>> = [];
  const slot = async (index: number): Promise<void> => {
    for (let item = next(index); item !== undefined && !stop(); item = next(index)) {
      let moveOn = (): void => {};
      const movedOn = new Promise<void>((resolve) => (moveOn = resolve));
      const work = run(item, moveOn);
      finishing.push(work);
      await Promise.race([movedOn, work]);
    }
  };
  await Promise.all(Array.from({ length: count }, (_, index) => slot(index)));
  await Promise.all(finishing);
}
