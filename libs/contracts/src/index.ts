export * from './openai.ts';
export * from './catalog.ts';
export * from './admin.ts';
export * from './console.ts';
