// A module of its own: its body must run before @nestjs/common is imported (see nest-common.ts).
import { deferDateFormats } from './defer-date-formats.ts';

deferDateFormats();
