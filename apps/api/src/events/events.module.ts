import { Global, Module } from '@nestjs/common';
import { PoolEvents } from './pool-events.service.ts';

/** The request-record hook, one instance app-wide, injectable anywhere. */
@Global()
@Module({ providers: [PoolEvents], exports: [PoolEvents] })
export class EventsModule {}
