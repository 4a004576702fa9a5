import { jest } from '@jest/globals';
import { deferDateFormats, restoreDateFormats } from './defer-date-formats.ts';

const OPTIONS: Intl.DateTimeFormatOptions = { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit', hour: 'numeric' };
const AT = Date.UTC(2026, 11, 7, 13, 5, 9);

describe('deferDateFormats', () => {
  const original = Intl.DateTimeFormat;
  let built: jest.Mock;

  beforeEach(() => {
    // What the deferred formatters build on first use: the real one, counted.
    built = jest.fn();
    const counting = function (this: unknown, ...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      built(...args);
      return new original(...args);
    } as unknown as typeof Intl.DateTimeFormat;
    counting.supportedLocalesOf = original.supportedLocalesOf.bind(original);
    Intl.DateTimeFormat = counting;
    deferDateFormats();
  });

  afterEach(() => {
    restoreDateFormats();
    Intl.DateTimeFormat = original;
  });

  it('builds nothing until a formatter is used, then the real one once, answering as it does', () => {
    const deferred = new Intl.DateTimeFormat('en-US', OPTIONS);
    const called = Intl.DateTimeFormat('en-US', OPTIONS);
    expect(built).not.toHaveBeenCalled();

    const real = new original('en-US', OPTIONS);
    expect(deferred.format(AT)).toBe(real.format(AT));
    expect(deferred.formatToParts(AT)).toEqual(real.formatToParts(AT));
    expect(deferred.resolvedOptions()).toEqual(real.resolvedOptions());
    expect(built).toHaveBeenCalledTimes(1);
    expect(built).toHaveBeenCalledWith('en-US', OPTIONS);
    expect(called.format(AT)).toBe(real.format(AT));
    expect(built).toHaveBeenCalledTimes(2);
  });

  it('restoreDateFormats puts back the constructor it replaced', () => {
    const replaced = Intl.DateTimeFormat;
    restoreDateFormats();
    expect(Intl.DateTimeFormat).not.toBe(replaced);
    new Intl.DateTimeFormat('en-US', OPTIONS);
    expect(built).toHaveBeenCalledTimes(1);
  });
});
