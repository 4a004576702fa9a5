import { Injectable, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ApiError } from './api-error.ts';

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
 * class-validator, with its errors turned into OpenAI's 400 that names the offending param.
 * Unknown fields pass through untouched: they are for the upstream.
 */
@Injectable()
export class OpenAIValidationPipe extends ValidationPipe {
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
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw ApiError.badRequest('The request body must be a JSON object.', null, 'invalid_body');
    }
    return super.transform(value, metadata);
  }
}
