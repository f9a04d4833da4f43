import type { Logger } from '../core/log';

/** Human sizes: `812 B`, `3.4 KiB`, `200.0 MiB`, `1.25 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit >= 2 ? 2 : 1)} ${units[unit]}`;
}

/** A transfer rate such as `48.3 MiB/s`. */
export function formatRate(bytes: number, milliseconds: number): string {
  const seconds = Math.max(milliseconds, 1) / 1000;
  return `${formatBytes(Math.round(bytes / seconds))}/s`;
}

/**
 * Logs upload progress at every `stepPercent` boundary crossed (default every
 * 10 %), so a console shows about ten lines for a big file, whatever its size.
 */
export class ProgressReporter {
  private done = 0;
  private nextPercent: number;
  private readonly startedAt = Date.now();

  constructor(
    private readonly log: Logger,
    private readonly total: number,
    private readonly stepPercent = 10,
  ) {
    this.nextPercent = stepPercent;
  }

  /** Bytes sent so far. */
  get bytesDone(): number {
    return this.done;
  }

  /** Records `bytes` more sent (one part) and logs when a boundary is crossed. */
  advance(bytes: number, partsDone: number, partCount: number): void {
    this.done += bytes;
    const percent = (this.done / this.total) * 100;
    if (percent + 1e-9 < this.nextPercent || this.done >= this.total) return;
    while (this.nextPercent <= percent) this.nextPercent += this.stepPercent;
    this.log.info(
      `uploaded ${formatBytes(this.done)} of ${formatBytes(this.total)} (${Math.floor(percent)}%, part ${partsDone}/${partCount}, ${formatRate(this.done, Date.now() - this.startedAt)})`,
    );
  }
}
