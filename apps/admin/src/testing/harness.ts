/**
 * Test doubles for the console's unit tests: an Angular environment injector with HttpClient's
 * testing backend, a fake Router, an in-memory localStorage and a minimal document. No DOM and
 * no TestBed (which needs one): services and components are created as classes in the injector.
 */
import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import {
  DOCUMENT,
  type EnvironmentInjector,
  Injector,
  NgZone,
  type Provider,
  createEnvironmentInjector,
  runInInjectionContext,
  ɵChangeDetectionScheduler as ChangeDetectionScheduler,
  ɵINJECTOR_SCOPE as INJECTOR_SCOPE,
  ɵNoopNgZone as NoopNgZone,
} from '@angular/core';
import { Router } from '@angular/router';
import { authInterceptor } from '../app/core/auth.interceptor';
import { BROWSER_STORAGE } from '../app/core/browser';

export class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
  setItem(key: string, value: string): void {
    this.map.set(key, String(value));
  }
}

type Listener = (e: unknown) => void;

class FakeEvents {
  private readonly listeners = new Map<string, Set<Listener>>();
  addEventListener(type: string, fn: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(fn);
  }
  removeEventListener(type: string, fn: Listener): void {
    this.listeners.get(type)?.delete(fn);
  }
  dispatch(type: string, event: unknown = {}): void {
    for (const fn of this.listeners.get(type) ?? []) fn(event);
  }
  count(type: string): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}

class FakeClassList {
  private readonly set = new Set<string>();
  toggle(name: string, force?: boolean): boolean {
    const on = force ?? !this.set.has(name);
    if (on) this.set.add(name);
    else this.set.delete(name);
    return on;
  }
  contains(name: string): boolean {
    return this.set.has(name);
  }
  add(...names: string[]): void {
    for (const n of names) this.set.add(n);
  }
  remove(...names: string[]): void {
    for (const n of names) this.set.delete(n);
  }
  toString(): string {
    return [...this.set].join(' ');
  }
}

/** Just what the console reads from `document`. */
export class FakeDocument extends FakeEvents {
  hidden = false;
  readonly documentElement = { classList: new FakeClassList() };
  readonly location = { origin: 'http://pool.test:8080' };
  readonly themeMeta = { content: '', setAttribute: (_: string, v: string) => (this.themeMeta.content = v) };
  readonly defaultView: FakeEvents & { localStorage: Storage };
  constructor(storage: Storage) {
    super();
    this.defaultView = Object.assign(new FakeEvents(), { localStorage: storage });
  }
  querySelector(selector: string): unknown {
    return selector === 'meta[name="theme-color"]' ? this.themeMeta : null;
  }
}

export class FakeRouter {
  url = '/dashboard';
  readonly navigations: Array<{ commands?: unknown[]; url?: string; extras?: unknown }> = [];
  navigate(commands: unknown[], extras?: unknown): Promise<boolean> {
    this.navigations.push({ commands, extras });
    return Promise.resolve(true);
  }
  navigateByUrl(url: string): Promise<boolean> {
    this.navigations.push({ url });
    return Promise.resolve(true);
  }
  createUrlTree(commands: unknown[], extras?: unknown): { commands: unknown[]; extras?: unknown } {
    return { commands, extras };
  }
}

export interface Harness {
  injector: EnvironmentInjector;
  http: HttpTestingController;
  router: FakeRouter;
  storage: MemoryStorage;
  document: FakeDocument;
  get<T>(token: { new (...args: never[]): T } | import('@angular/core').InjectionToken<T>): T;
  /** Creates `fn()`'s result in the injector's context (for components and functional guards). */
  run<T>(fn: () => T): T;
  destroy(): void;
}

/** An injector with the console's real HttpClient setup (auth interceptor included) on a testing backend. */
export function createHarness(providers: Provider[] = [], storage = new MemoryStorage()): Harness {
  const router = new FakeRouter();
  const document = new FakeDocument(storage);
  const injector = createEnvironmentInjector(
    [
      // A root injector, as the app's is: `providedIn: 'root'` services live here (TestBed does the same).
      { provide: INJECTOR_SCOPE, useValue: 'root' },
      // Nothing renders here; HttpClient's pending-task bookkeeping only needs someone to notify.
      { provide: ChangeDetectionScheduler, useValue: { notify: () => undefined, runningTick: false } },
      { provide: NgZone, useClass: NoopNgZone },
      provideHttpClient(withInterceptors([authInterceptor])),
      provideHttpClientTesting(),
      { provide: Router, useValue: router },
      { provide: DOCUMENT, useValue: document },
      { provide: BROWSER_STORAGE, useValue: storage },
      ...providers,
    ],
    Injector.NULL as EnvironmentInjector,
  );
  return {
    injector,
    http: injector.get(HttpTestingController),
    router,
    storage,
    document,
    get: (token) => injector.get(token),
    run: (fn) => runInInjectionContext(injector, fn),
    destroy: () => injector.destroy(),
  };
}

export { HttpClient };
