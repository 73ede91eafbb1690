// Pure: byte counts, rates and durations as the operator reads them.

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 2434793472 -> "2.27 GiB"; below 1 KiB, "512 bytes". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(2)} ${UNITS[unit]}`;
}

/** Bytes a second as "123.4 MB/s" (decimal megabytes, as disk vendors and dd print them). */
export function formatRate(bytesPerSecond: number): string {
  return Number.isFinite(bytesPerSecond) ? `${(bytesPerSecond / 1e6).toFixed(1)} MB/s` : '-';
}
