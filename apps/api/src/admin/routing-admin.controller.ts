import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiProperty, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import type { RoutingSettings, SetRoutingRequest } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { ROUTING_STRATEGIES, RoutingSettingsService } from '../routing/routing-settings.service.ts';

/** PUT /api/routing. */
export class SetRoutingDto implements SetRoutingRequest {
  @ApiProperty({
    enum: ROUTING_STRATEGIES,
    nullable: true,
    description: '`random`：按“健康分 × 权重”加权随机；`priority`：优先级数字小的先试；`latency`：延迟低的先试；`null` 恢复为 `ROUTING_STRATEGY`。',
  })
  // Required: null (back to ROUTING_STRATEGY) is one of the accepted values, a missing field is not.
  @IsIn([...ROUTING_STRATEGIES, null])
  strategy!: SetRoutingRequest['strategy'];
}

/** The routing strategy, chosen in the console (the environment only gives the initial one). */
@ApiTags(DOC_TAGS.providers)
@ApiAdminAuth()
@Controller('api/routing')
@UseGuards(AdminGuard)
export class RoutingAdminController {
  constructor(private readonly routing: RoutingSettingsService) {}

  @Get()
  @ApiOperation({
    summary: '路由策略',
    description: '生效中的路由策略、它的来源（`console` 管理台设置，或 `config` 环境变量 `ROUTING_STRATEGY`）与环境变量的默认值。',
  })
  @ApiJsonResponse('RoutingSettings', '生效中的路由策略。')
  @ApiErrors([401])
  get(): RoutingSettings {
    return this.routing.view();
  }

  @Put()
  @ApiOperation({
    summary: '设置路由策略',
    description: '保存并立即使用这个路由策略（保存在存储中，重启后仍有效，集群模式下所有副本共享）；`null` 恢复为 `ROUTING_STRATEGY`。',
  })
  @ApiJsonResponse('RoutingSettings', '保存后的路由策略。')
  @ApiErrors([400, 401], { 400: '未知的策略。' })
  set(@Body() dto: SetRoutingDto): Promise<RoutingSettings> {
    return this.routing.set(dto.strategy);
  }
}
