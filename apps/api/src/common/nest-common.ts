/*
 * Loads @nestjs/common with Intl.DateTimeFormat deferred (see defer-date-formats.ts), and puts the
 * real one back once it is loaded. ES modules run in import order, each after its own imports:
 * defer-date-formats-start.ts runs first, then @nestjs/common and everything it imports, then this
 * module's body. bootstrap.ts imports this before anything else, so that it is the first to load
 * Nest; where Nest was loaded already (a test importing it first), this changes nothing.
 */
import './defer-date-formats-start.ts';
import '@nestjs/common';
import { restoreDateFormats } from './defer-date-formats.ts';

restoreDateFormats();
