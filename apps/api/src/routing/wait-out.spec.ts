import { jest } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { waitOut } from './failover.service.ts';

afterEach(() => jest.restoreAllMocks());

it("does not end while the breakers' clock is short of the wait, even after its timer fired", async () => {
  // The timer fires on libuv's clock; Date.now can still read a millisecond before the deadline.
  let wall = 1_000;
  jest.spyOn(Date, 'now').mockImplementation(() => wall);
  let done = false;
  const waiting = firstValueFrom(waitOut(30)).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 60));
  wall = 1_029; // the timer has fired; by Date.now one millisecond is left
  await new Promise((r) => setTimeout(r, 60));
  expect(done).toBe(false);
  wall = 1_030;
  await waiting;
  expect(done).toBe(true);
});

it('ends at once for a wait already over', async () => {
  expect(await firstValueFrom(waitOut(0))).toBeUndefined();
});
