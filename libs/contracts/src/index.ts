export * from './openai.ts';
export * from './catalog.ts';
