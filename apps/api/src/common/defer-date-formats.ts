/*
 * While the modules that import it load, `Intl.DateTimeFormat` builds nothing until a formatter
 * is first used. Nest's logger modules each build one when imported, for the timestamp of a log
 * line; building the first DateTimeFormat pulls ICU's locale, calendar and zone data into memory
 * (~7 MB of the process's RSS, measured on the gateway) and the gateway's logger formats its
 * timestamp without Intl (GatewayLogger), so with this those pages are never touched. See
 * nest-common.ts for where it starts and ends.
 */

/** The constructor deferDateFormats replaced, until restoreDateFormats puts it back. */
let Real: typeof Intl.DateTimeFormat | undefined;

/** The methods of a DateTimeFormat that Nest calls (format), and the rest, each building the real one first. */
function deferred(locales?: string | string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let real: Intl.DateTimeFormat | undefined;
  const Built = Real ?? Intl.DateTimeFormat;
  const get = (): Intl.DateTimeFormat => (real ??= new Built(locales, options));
  return {
    format: (date?: Date | number) => get().format(date),
    formatToParts: (date?: Date | number) => get().formatToParts(date),
    formatRange: (start: Date | number, end: Date | number) => get().formatRange(start, end),
    formatRangeToParts: (start: Date | number, end: Date | number) => get().formatRangeToParts(start, end),
    resolvedOptions: () => get().resolvedOptions(),
    [Symbol.toStringTag]: 'Intl.DateTimeFormat',
  } as Intl.DateTimeFormat;
}

/** `new Intl.DateTimeFormat(…)` (and the call without `new`) answers a deferred formatter until restoreDateFormats. */
export function deferDateFormats(): void {
  const replaced = (Real ??= Intl.DateTimeFormat);
  Intl.DateTimeFormat = Object.assign(
    function DateTimeFormat(locales?: string | string[], options?: Intl.DateTimeFormatOptions) {
      return deferred(locales, options);
    },
    { supportedLocalesOf: replaced.supportedLocalesOf.bind(replaced) },
  ) as unknown as typeof Intl.DateTimeFormat;
}

export function restoreDateFormats(): void {
  if (Real) Intl.DateTimeFormat = Real;
  Real = undefined;
}
