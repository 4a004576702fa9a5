import { Injectable, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ApiError } from './api-error.ts';
import { MAX_DEPTH, NOT_PLAIN, ValidatorCompiler } from './compiled-validator.ts';

const TYPE_RULES = ['isArray', 'isString', 'isNumber', 'isInt', 'isBoolean', 'isObject'];

/** `messages[0].content` from class-validator's nested error tree. */
function firstLeaf(errors: ValidationError[], path = ''): { param: string; problem: string } | undefined {
  for (const e of errors) {
    const name = /^\d+$/.test(e.property) ? `${path}[${e.property}]` : path ? `${path}.${e.property}` : e.property;
    if (e.constraints && Object.keys(e.constraints).length) {
      // When a value breaks several rules, its type is the one worth telling first.
      const key = TYPE_RULES.find((k) => e.constraints![k]) ?? Object.keys(e.constraints)[0]!;
      return { param: name, problem: e.constraints[key]!.replace(/^\S+\s/, '') };
    }
    const inner = firstLeaf(e.children ?? [], name);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * How many values (containers and scalars) `value` holds, and whether its arrays or objects nest
 * more than `maxDepth` levels; iterative, so any depth is safe.
 */
export function measure(value: unknown, maxDepth: number): { values: number; tooDeep: boolean } {
  const pending: unknown[] = [value];
  const depths: number[] = [0];
  let values = 0;
  while (pending.length > 0) {
    const item = pending.pop();
    const depth = depths.pop()!;
    values += 1;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > maxDepth) return { values, tooDeep: true };
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      pending.push(child);
      depths.push(depth + 1);
    }
  }
  return { values, tooDeep: false };
}

/** A copy of `value` with every array cut to its first `items` elements. */
function withShortArrays(value: unknown, items: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.slice(0, items).map((v: unknown) => withShortArrays(v, items));
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) copy[key] = withShortArrays(v, items);
  return copy;
}

/**
 * class-transformer and class-validator cost ~15 µs per value: a 10 MB body of 300k messages with
 * one bad role held the event loop ~10 s. Bodies the compiled checks do not vouch for are checked
 * by them in full only up to this many values.
 */
const SLOW_PATH_MAX_VALUES = 5_000;
/** Above it, the first elements of each array are checked, where the problem usually is. */
const SLOW_PATH_SAMPLE_ITEMS = 16;

/**
 * class-validator, with its errors turned into OpenAI's 400 that names the offending param.
 * Unknown fields pass through untouched: they are for the upstream.
 *
 * A body that its DTO's compiled checks (compiled-validator.ts) find valid skips class-transformer
 * and class-validator, which cost a good part of a request's CPU; any other body, and every error,
 * takes ValidationPipe's own path.
 */
@Injectable()
export class OpenAIValidationPipe extends ValidationPipe {
  private readonly compiler: ValidatorCompiler;
  /**
   * What ValidationPipe returns for a valid value when it does not transform: the value itself, or
   * (with more than one validator option, as here) classToPlain of the instance it validated.
   */
  private readonly returnsCopy: boolean;

  constructor() {
    super({
      transform: false,
      forbidUnknownValues: false,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const leaf = firstLeaf(errors);
        return ApiError.badRequest(
          leaf ? `Invalid value for '${leaf.param}': ${leaf.problem}.` : 'Invalid request body.',
          leaf?.param ?? null,
          'invalid_value',
        );
      },
    });
    this.compiler = new ValidatorCompiler(this.validatorOptions);
    this.returnsCopy = Object.keys(this.validatorOptions).length > 1;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw ApiError.badRequest('The request body must be a JSON object.', null, 'invalid_body');
    }
    if (metadata.type === 'body') {
      const valid = this.validFast(value, metadata);
      if (valid !== NOT_PLAIN) return valid;
      // Only bodies the fast path did not vouch for pay for this walk.
      const { values, tooDeep } = measure(value, MAX_DEPTH);
      // class-transformer and class-validator recurse: 100k nested arrays overflow the stack (a 500).
      if (tooDeep) throw ApiError.badRequest(`The request body is nested too deeply (more than ${MAX_DEPTH} levels).`, null, 'invalid_body');
      if (values > SLOW_PATH_MAX_VALUES && this.toValidate(metadata)) return this.refuseLarge(value, metadata);
    }
    return super.transform(value, metadata);
  }

  /**
   * A large body the compiled checks did not find valid: the problem among the first elements of
   * each array named as usual, else a 400 that cannot say where. (A large valid body that the
   * compiled checks cannot vouch for, one using keys such as `constructor`, is refused too.)
   */
  private async refuseLarge(value: unknown, metadata: ArgumentMetadata): Promise<never> {
    const sample = withShortArrays(value, SLOW_PATH_SAMPLE_ITEMS);
    if (measure(sample, MAX_DEPTH).values <= SLOW_PATH_MAX_VALUES) await super.transform(sample, metadata);
    throw ApiError.badRequest(
      `The request body is not valid, and with more than ${SLOW_PATH_MAX_VALUES} values it is too large to say where.`,
      null,
      'invalid_body',
    );
  }

  /**
   * What super.transform would return for `value`, when the compiled checks of its DTO find it
   * valid and it is plain JSON data (nothing for stripProtoKeys or class-transformer to change);
   * NOT_PLAIN when unsure.
   */
  private validFast(value: unknown, metadata: ArgumentMetadata): unknown {
    const { metatype } = metadata;
    if (!metatype || this.isTransformEnabled || this.transformOptions || this.expectedType || !this.toValidate(metadata)) return NOT_PLAIN;
    try {
      const copy = this.compiler.validCopy(metatype, value);
      return copy === NOT_PLAIN || this.returnsCopy ? copy : value;
    } catch {
      // A rule that throws: the normal path throws the same.
      return NOT_PLAIN;
    }
  }
}
