import { createRequire } from 'node:module';
import { Type } from 'class-transformer';
import { getMetadataStorage, type MetadataStorage, type ValidationArguments, type ValidatorConstraintInterface, type ValidatorOptions } from 'class-validator';

/*
 * A fast answer to "would class-validator find nothing wrong with this body?", compiled once per DTO
 * class from class-validator's and class-transformer's own metadata.
 *
 * The answer is one-sided: `true` only when class-validator (after class-transformer's
 * plainToInstance, as Nest's ValidationPipe runs them) would certainly report no error; `false`
 * means "not sure", and the caller then takes the normal path, which produces the error (or the
 * value) exactly as before. Only plain JSON data can be `true` (see copyPlainData); for it, the
 * answer is exact. A class that uses anything not understood here compiles to null.
 *
 * Understood (see compileClass/compileRule):
 * - @IsOptional, and other conditions (@ValidateIf), called as class-validator calls them;
 * - custom-validation rules (every built-in rule such as @IsString, and registerDecorator ones),
 *   synchronous, with or without `each` and a per-rule `validateIf`. A few built-ins are plain JS
 *   checks (INLINE); the others call the registered constraint's validate(value, args) directly;
 * - @ValidateNested, with or without class-transformer's @Type(() => Class) (no discriminator).
 * Not understood (null): groups or `always` on a rule, @IsDefined, @ValidatePromise, async
 * constraints, unknown metadata types, class-transformer's @Expose/@Exclude/@Transform, inheritance,
 * members on the prototype, field initializers, and validator options other than
 * forbidUnknownValues: false and those that only shape error messages.
 *
 * Assumed: conditions and custom validators are pure (they may run twice when the fast answer is
 * "not sure"), and they get an instance of the class holding the same own properties as the body
 * (nested values are the body's own, not class-transformer's copies of them); constraint instances
 * are taken from class-validator's container once, when the class is compiled.
 */

type Constructor = abstract new (...args: never[]) => unknown;
type Predicate = (value: unknown) => boolean;
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];
/** The object being checked; its instance, as class-validator would see it, is built when first needed. */
interface Target {
  readonly plain: Record<string, unknown>;
  readonly Ctor: new () => object;
  instance: object | undefined;
}
/** A rule for one property value. */
type Rule = (value: unknown, target: Target) => boolean;
/** A plain check of a built-in rule: a boolean, or undefined for "ask the registered validator". */
type Inline = (value: unknown) => boolean | undefined;

/** class-transformer's metadata storage, as far as it is read here (part of it is private there). */
interface TypeMetadataLike {
  reflectedType?: unknown;
  typeFunction?: (options?: unknown) => unknown;
  options?: { discriminator?: unknown };
}
interface TransformerStorage {
  getStrategy(target: Constructor): string;
  findTypeMetadata(target: Constructor, propertyName: string): TypeMetadataLike | undefined;
  _typeMetadatas: Map<unknown, Map<string, TypeMetadataLike>>;
  _transformMetadatas: Map<unknown, unknown>;
  _exposeMetadatas: Map<unknown, unknown>;
  _excludeMetadatas: Map<unknown, unknown>;
}

/** Returned by copyPlainData for a value it cannot vouch for. */
export const NOT_PLAIN: unique symbol = Symbol('not plain data');

/** Nesting deeper than this is left to the normal path (as are cycles). */
export const MAX_DEPTH = 200;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
/** class-validator's isPromise. */
const isPromise = (v: unknown) => v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
/** Keys class-transformer skips or Nest's stripProtoKeys deletes: a body holding one takes the normal path. */
const isSpecialKey = (key: string) => key in Object.prototype || key === 'prototype';

/**
 * What ValidationPipe (transform: false, no transformOptions) returns for a valid body:
 * classToPlain(plainToInstance(cls, value)), for a compiled class. For plain JSON data that is a
 * deep copy with the same keys in the same order. NOT_PLAIN when the value holds anything else
 * (class instances, holes, functions, cycles, keys named like Object.prototype members or
 * `prototype`), which class-transformer or the pipe's stripProtoKeys/closeArrayGaps would treat
 * differently.
 */
export function copyPlainData(value: unknown): unknown {
  return plainData(value, 0, true);
}

/** Whether copyPlainData would copy `value` (without copying it). */
export function isPlainData(value: unknown): boolean {
  return plainData(value, 0, false) !== NOT_PLAIN;
}

function plainData(value: unknown, depth: number, copy: boolean): unknown {
  if (typeof value !== 'object') {
    const t = typeof value;
    return t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined' ? value : NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    const out: unknown[] | undefined = copy ? [] : undefined;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_PLAIN;
      const item = plainData(value[i], depth + 1, copy);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out?.push(item);
    }
    return out ?? value;
  }
  if (
    Object.getPrototypeOf(value) !== Object.prototype ||
    Object.hasOwn(value, '__proto__') ||
    Object.hasOwn(value, 'constructor') ||
    Object.hasOwn(value, 'prototype')
  ) {
    return NOT_PLAIN;
  }
  const out: Record<string, unknown> | undefined = copy ? {} : undefined;
  for (const key of Object.keys(value)) {
    if (isSpecialKey(key)) return NOT_PLAIN;
    const item = plainData((value as Record<string, unknown>)[key], depth + 1, copy);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    if (out) out[key] = item;
  }
  return out ?? value;
}

/*
 * Plain checks for built-in rules, from class-validator 0.15's own functions (decorator/**). Each is
 * checked at compile time against the registered validator (PROBES), so a custom rule that only
 * borrows a built-in name, or a class-validator whose rule changed, is called instead.
 */
const INLINE: Record<string, (constraints: unknown[] | undefined) => Inline | null> = {
  isString: () => (v) => typeof v === 'string' || v instanceof String,
  isBoolean: () => (v) => typeof v === 'boolean' || v instanceof Boolean,
  isArray: () => (v) => Array.isArray(v),
  isObject: () => (v) => v != null && (typeof v === 'object' || typeof v === 'function') && !Array.isArray(v),
  isInt: () => (v) => typeof v === 'number' && Number.isInteger(v),
  isNotEmpty: () => (v) => v !== '' && v !== null && v !== undefined,
  // Only with the default options: NaN and ±Infinity fail, any number of decimals.
  isNumber: (c) => {
    const o = c?.[0] as { allowNaN?: unknown; allowInfinity?: unknown; maxDecimalPlaces?: unknown } | undefined;
    if (typeof o !== 'object' || o === null || o.allowNaN || o.allowInfinity || o.maxDecimalPlaces !== undefined) return null;
    return (v) => typeof v === 'number' && Number.isFinite(v);
  },
  // Strict equality, as class-validator's isIn.
  isIn: (c) => {
    const values = c?.[0];
    if (!Array.isArray(values)) return null;
    return (v) => {
      for (const x of values) if (x === v) return true;
      return false;
    };
  },
  min: (c) => {
    const m = c?.[0];
    return typeof m === 'number' ? (v) => typeof v === 'number' && v >= m : null;
  },
  max: (c) => {
    const m = c?.[0];
    return typeof m === 'number' ? (v) => typeof v === 'number' && v <= m : null;
  },
  arrayMinSize: (c) => {
    const m = c?.[0];
    return typeof m === 'number' ? (v) => Array.isArray(v) && v.length >= m : null;
  },
  arrayMaxSize: (c) => {
    const m = c?.[0];
    return typeof m === 'number' ? (v) => Array.isArray(v) && v.length <= m : null;
  },
  // validator.js's isLength counts a surrogate pair or a presentation sequence as one: never more
  // than .length, so .length <= max settles it; a longer string asks the registered validator.
  maxLength: (c) => {
    const m = c?.[0];
    return typeof m === 'number' ? (v) => (typeof v !== 'string' ? false : v.length <= m ? true : undefined) : null;
  },
};
/** The INLINE checks that may answer undefined. */
const DEFERRING = new Set(['maxLength']);

const PROBES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'a',
  'abc',
  'true',
  '1',
  '0',
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  2,
  -2,
  3,
  100,
  1e21,
  2 ** 53,
  NaN,
  Infinity,
  -Infinity,
  true,
  false,
  [],
  [1],
  ['a'],
  [1, 2, 3, 4, 5],
  [{}],
  {},
  { a: 1 },
  () => 1,
  new String('s'),
  new Number(1),
  new Boolean(false),
];

/** Probes from a rule's constraints: the values themselves, numbers around them, strings and arrays of those lengths. */
function constraintProbes(constraints: unknown[] | undefined): unknown[] {
  const out: unknown[] = [];
  const add = (c: unknown) => {
    out.push(c);
    if (typeof c === 'number' && Number.isFinite(c)) {
      out.push(c - 1, c + 1, c - 0.5, c + 0.5, String(c));
      for (const n of [c - 1, c, c + 1]) {
        if (Number.isInteger(n) && n >= 0 && n <= 100_000) out.push('x'.repeat(n), '\u{1F600}'.repeat(n), new Array(n).fill(0));
      }
    } else if (typeof c === 'string') out.push(c.toUpperCase(), ` ${c}`);
  };
  for (const c of constraints ?? []) (Array.isArray(c) ? c : [c]).forEach(add);
  return out;
}

/** Whether `inline` answers as the registered validator for every probe it answers for. */
function agrees(inline: Inline, validator: ValidatorConstraintInterface, metadata: ValidationMetadata, targetName: string): boolean {
  try {
    for (const probe of [...PROBES, ...constraintProbes(metadata.constraints)]) {
      const expected = inline(probe);
      if (expected === undefined) continue;
      const args: ValidationArguments = { targetName, property: metadata.propertyName, object: {}, value: probe, constraints: metadata.constraints };
      const actual = validator.validate(probe, args);
      if (isPromise(actual) || !!actual !== expected) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Options that leave the outcome of validation as this compiler assumes it (the rest only shape errors). */
function optionsSupported(options: ValidatorOptions): boolean {
  const shapingOnly = new Set(['validationError', 'enableDebugMessages', 'dismissDefaultMessages', 'stopAtFirstError']);
  for (const [key, value] of Object.entries(options)) {
    if (key === 'forbidUnknownValues') {
      if (value !== false) return false;
    } else if (!shapingOnly.has(key)) return false;
  }
  return options.forbidUnknownValues === false;
}

let transformerStorage: TransformerStorage | null | undefined;

/**
 * class-transformer's metadata storage: the one its decorators write to (checked with a probe
 * class), or null if it cannot be found, in which case nothing compiles.
 */
function getTransformerStorage(): TransformerStorage | null {
  if (transformerStorage !== undefined) return transformerStorage;
  transformerStorage = null;
  try {
    const storage = (createRequire(import.meta.url)('class-transformer/cjs/storage.js') as { defaultMetadataStorage: TransformerStorage })
      .defaultMetadataStorage;
    class StorageProbe {}
    Type(() => StorageProbe)(StorageProbe.prototype, 'probe');
    const maps = [storage._typeMetadatas, storage._transformMetadatas, storage._exposeMetadatas, storage._excludeMetadatas];
    if (maps.every((m) => m instanceof Map) && storage.findTypeMetadata(StorageProbe, 'probe')) transformerStorage = storage;
  } catch {
    transformerStorage = null;
  }
  return transformerStorage;
}

/**
 * Compiles DTO classes for one set of validator options (those of the pipe), each class once.
 * A class that cannot be compiled gives null: it must always take the normal path.
 */
export class ValidatorCompiler {
  /** The rules of each class, for plain data (see copyPlainData): class-transformer changes other values before class-validator sees them. */
  private readonly cells = new WeakMap<object, { fn: Predicate | null | undefined }>();
  private readonly predicates = new WeakMap<object, Predicate | null>();
  private readonly supported: boolean;

  constructor(private readonly options: ValidatorOptions) {
    this.supported = optionsSupported(options);
  }

  /** True only when class-validator, on plainToInstance(cls, value), would certainly find no error. */
  compile(cls: unknown): Predicate | null {
    if (typeof cls !== 'function') return null;
    let predicate = this.predicates.get(cls);
    if (predicate === undefined) {
      const rules = this.cell(cls as Constructor).fn ?? null;
      predicate = rules && ((value) => isPlainData(value) && rules(value));
      this.predicates.set(cls, predicate);
    }
    return predicate;
  }

  /**
   * For ValidationPipe: copyPlainData(value), when it is plain data that class-validator would
   * certainly find valid as a `cls`; NOT_PLAIN otherwise, and when `cls` does not compile.
   */
  validCopy(cls: unknown, value: unknown): unknown {
    if (typeof cls !== 'function') return NOT_PLAIN;
    const rules = this.cell(cls as Constructor).fn;
    if (!rules) return NOT_PLAIN;
    const copy = copyPlainData(value);
    return copy !== NOT_PLAIN && rules(value) ? copy : NOT_PLAIN;
  }

  /** The compiled predicate of `cls`, set once compiled (a class nested in itself sees its own cell still empty). */
  private cell(cls: Constructor): { fn: Predicate | null | undefined } {
    let cell = this.cells.get(cls);
    if (!cell) {
      cell = { fn: undefined };
      this.cells.set(cls, cell);
      try {
        cell.fn = this.supported ? this.compileClass(cls) : null;
      } catch {
        cell.fn = null;
      }
    }
    return cell;
  }

  /** A predicate for the nested values of a property, validated as instances of `cls`. */
  private nestedOf(cls: Constructor): Predicate | null {
    const cell = this.cell(cls);
    if (cell.fn === null) return null;
    // Read when called: while `cls` is still being compiled (a cycle) the cell is not set yet.
    return (v) => (cell.fn ? cell.fn(v) : false);
  }

  private compileClass(cls: Constructor): Predicate | null {
    const storage = getTransformerStorage();
    const typed = storage && typeTargets(storage, cls, new Set());
    if (!typed) return null;

    const cv = getMetadataStorage();
    const { always = false, strictGroups = false, groups } = this.options;
    const metadatas = cv.getTargetValidationMetadatas(cls, undefined as unknown as string, always, strictGroups, groups);
    // A nested value without @Type stays a plain object, validated by the rules of Object: none.
    const objectRules = cv.getTargetValidationMetadatas(Object, undefined as unknown as string, always, strictGroups, groups);

    const byProperty = new Map<string, ValidationMetadata[]>();
    for (const m of metadatas) {
      if (typeof m.propertyName !== 'string' || isSpecialKey(m.propertyName)) return null;
      byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
    }

    interface PropertyPlan {
      name: string;
      optional: boolean;
      conditions: ((object: object, value: unknown) => unknown)[];
      rules: Rule[];
      nested: Predicate | null;
    }
    const plans: PropertyPlan[] = [];
    for (const [name, list] of byProperty) {
      const plan: PropertyPlan = { name, optional: false, conditions: [], rules: [], nested: null };
      let nested = false;
      for (const m of list) {
        if ((m.groups && m.groups.length) || m.always !== undefined) return null;
        switch (m.type) {
          case 'conditionalValidation': {
            const condition = m.constraints?.[0] as ((object: object, value: unknown) => unknown) | undefined;
            if (typeof condition !== 'function') return null;
            if (m.name === 'isOptional' && isOptionalCondition(condition, name)) plan.optional = true;
            else plan.conditions.push(condition);
            break;
          }
          case 'customValidation': {
            const rule = compileRule(cls, m);
            if (!rule) return null;
            plan.rules.push(rule);
            break;
          }
          case 'nestedValidation':
            nested = true;
            break;
          case 'whitelistValidation':
            // @Allow: only read with `whitelist`, which is not supported.
            break;
          default:
            return null;
        }
      }
      if (nested) {
        const target = typed.get(name);
        const item = target ? this.nestedOf(target) : objectRules.length ? null : () => true;
        if (!item) return null;
        plan.nested = nestedValues(item);
      }
      plans.push(plan);
    }

    const Ctor = cls as unknown as new () => object;
    return (value) => {
      if (!isPlainObject(value)) return false;
      const target: Target = { plain: value, Ctor, instance: undefined };
      for (const plan of plans) {
        const v = value[plan.name];
        // class-validator runs every condition; all must hold for the rules to apply.
        if (plan.optional && (v === null || v === undefined)) continue;
        if (plan.conditions.length) {
          let apply = true;
          for (const condition of plan.conditions) if (!condition(instanceOf(target), v)) apply = false;
          if (!apply) continue;
        }
        for (const rule of plan.rules) if (!rule(v, target)) return false;
        if (plan.nested && v !== undefined && !plan.nested(v)) return false;
      }
      return true;
    };
  }
}

/**
 * The @Type targets of the properties of `cls` (property → class), or null unless `cls` and every
 * class reachable through @Type are bare: no base class, nothing on the prototype, no field
 * initializers, no @Expose/@Exclude/@Transform, @Type(() => Class) without discriminator and not
 * to a Map or Set. For those, plainToInstance then classToPlain gives back a copy of plain data.
 */
function typeTargets(storage: TransformerStorage, cls: Constructor, seen: Set<Constructor>): Map<string, Constructor> | null {
  seen.add(cls);
  const proto = (cls as { prototype?: unknown }).prototype;
  if (typeof proto !== 'object' || proto === null) return null;
  if (Object.getPrototypeOf(cls) !== Function.prototype || Object.getPrototypeOf(proto) !== Object.prototype) return null;
  if (Reflect.ownKeys(proto).some((k) => k !== 'constructor')) return null;
  if (Reflect.ownKeys(new (cls as unknown as new () => object)()).length) return null;
  if (storage.getStrategy(cls) !== 'none' || storage._transformMetadatas.has(cls) || storage._exposeMetadatas.has(cls) || storage._excludeMetadatas.has(cls)) {
    return null;
  }
  const targets = new Map<string, Constructor>();
  for (const [property, meta] of storage._typeMetadatas.get(cls) ?? new Map<string, TypeMetadataLike>()) {
    if (meta.options?.discriminator || meta.reflectedType === Map || meta.reflectedType === Set) return null;
    // Called once, without the options class-transformer passes: so only an arrow function taking none.
    const fn = meta.typeFunction;
    if (typeof fn !== 'function' || fn.length !== 0 || Object.hasOwn(fn, 'prototype')) return null;
    const target = fn() as Constructor;
    if (typeof target !== 'function') return null;
    if (!seen.has(target) && !typeTargets(storage, target, seen)) return null;
    targets.set(property, target);
  }
  return targets;
}

/** IsOptional's condition is `value != null`; checked, so that only the real one is read as such. */
function isOptionalCondition(condition: (object: object, value: unknown) => unknown, property: string): boolean {
  try {
    return PROBES.every((v) => !!condition({ [property]: v }, v) === (v !== null && v !== undefined));
  } catch {
    return false;
  }
}

/**
 * class-validator's nestedValidations, for the value of a @ValidateNested property (not undefined):
 * an array (any depth) of objects, or an object, each valid for its class; undefined items pass,
 * anything else fails (null and primitives are errors; other objects are left to the normal path).
 */
function nestedValues(item: Predicate): Predicate {
  const check = (v: unknown, depth: number): boolean => {
    if (Array.isArray(v)) {
      if (depth > MAX_DEPTH) return false;
      for (const x of v) if (x !== undefined && !check(x, depth + 1)) return false;
      return true;
    }
    return isPlainObject(v) && item(v);
  };
  return (v) => check(v, 0);
}

/** The instance class-transformer builds: the class with the body's own properties (not the keys it skips). */
function instanceOf(target: Target): object {
  if (target.instance) return target.instance;
  const instance = new target.Ctor() as Record<string, unknown>;
  for (const key of Object.keys(target.plain)) if (!(key in Object.prototype)) instance[key] = target.plain[key];
  return (target.instance = instance);
}

/** One custom-validation rule, as class-validator's customValidations runs it. */
function compileRule(cls: Constructor, m: ValidationMetadata): Rule | null {
  const constraints = getMetadataStorage().getTargetValidatorConstraints(m.constraintCls);
  if (constraints.some((c) => c.async)) return null;
  // No constraint registered for the class: class-validator checks nothing.
  if (!constraints.length) return () => true;
  const validators = constraints.map((c) => c.instance);
  const targetName = cls.name;
  const property = m.propertyName;

  const inlineFactory = constraints.length === 1 && m.name ? INLINE[m.name] : undefined;
  let inline = inlineFactory?.(m.constraints);
  if (inline && !agrees(inline, validators[0]!, m, targetName)) inline = null;

  const { each, validateIf } = m;
  // A plain check that always answers needs no ValidationArguments.
  if (inline && !DEFERRING.has(m.name!) && !each && !validateIf) return inline as (value: unknown) => boolean;

  const call = (v: unknown, args: ValidationArguments) => {
    for (const validator of validators) {
      const result = validator.validate(v, args);
      if (isPromise(result) || !result) return false;
    }
    return true;
  };
  const argsFor = (target: Target, value: unknown): ValidationArguments => ({
    targetName,
    property,
    object: instanceOf(target),
    value,
    constraints: m.constraints,
  });

  return (v, target) => {
    if (validateIf && !validateIf(instanceOf(target), v)) return true;
    if (!each || !(Array.isArray(v) || v instanceof Set || v instanceof Map)) {
      const answer = inline?.(v);
      return answer !== undefined ? answer : call(v, argsFor(target, v));
    }
    if (!Array.isArray(v)) return false;
    // One ValidationArguments for all the items, holding the whole array, as class-validator's.
    let shared: ValidationArguments | undefined;
    for (const item of v) {
      const answer = inline?.(item);
      if (answer === false || (answer === undefined && !call(item, (shared ??= argsFor(target, v))))) return false;
    }
    return true;
  };
}
