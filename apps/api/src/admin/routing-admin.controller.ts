import { Body, Controller, Delete, Get, Param, Patch, Put, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import type { ModelRouteWeight, ModelRouting, ModelRoutingList, RoutingSettings, SetModelRoutingRequest, SetRoutingRequest } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { MODEL_ROUTES_MAX, MODEL_WEIGHT_MAX, ModelRoutingService } from '../routing/model-routing.service.ts';
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

/**
 * PATCH /api/routing/models/{id}. The service checks the fields (the providers must be the
 * model's, which only it knows), so the 400s name `routes[i].weight` and the like.
 */
export class SetModelRoutingDto implements Partial<SetModelRoutingRequest> {
  @ApiPropertyOptional({
    type: 'array',
    maxItems: MODEL_ROUTES_MAX,
    nullable: true,
    items: {
      type: 'object',
      required: ['provider', 'weight'],
      properties: {
        provider: { type: 'string', description: '这个模型的一条路由的提供商（不区分大小写）。' },
        weight: { type: 'integer', minimum: 0, maximum: MODEL_WEIGHT_MAX, description: '这个模型在该提供商上的权重；0 表示只在别的都不可用时才用。' },
      },
    },
    description:
      '这个模型自己的路由顺序（数组顺序，`priority` 策略按它尝试）与权重（`random` 策略按“健康分 × 权重”），代替提供商的优先级与权重；没列出的路由沿用提供商的设置，排在列出的之后。`null` 恢复为提供商的设置；省略则不变。',
  })
  routes?: ModelRouteWeight[] | null;

  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    description:
      '强制：这个提供商能服务时总是先试它；它不能服务（冷却中、已停用、被筛掉）或失败时照常故障转移到其他路由，并记录日志。`null` 取消；省略则不变。',
  })
  forced?: string | null;
}

const MODEL_ID = ApiParam({ name: 'id', description: '模型 id（见 `GET /api/models`）。', schema: { type: 'string' } });

/** The routing strategy, chosen in the console (the environment only gives the initial one), and per-model routing. */
@ApiTags(DOC_TAGS.providers)
@ApiAdminAuth()
@Controller('api/routing')
@UseGuards(AdminGuard)
export class RoutingAdminController {
  constructor(
    private readonly routing: RoutingSettingsService,
    private readonly models: ModelRoutingService,
  ) {}

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

  @Get('models')
  @ApiOperation({ summary: '按模型的路由', description: '设置了自己的路由顺序、权重或强制提供商的模型，每个带上各条路由生效中的顺序与权重。' })
  @ApiJsonResponse('ModelRoutingList', '有按模型路由设置的模型。')
  @ApiErrors([401])
  listModels(): ModelRoutingList {
    return { items: this.models.list() };
  }

  @Get('models/:id')
  @ApiOperation({
    summary: '一个模型的路由',
    description: '这个模型的各条路由：按它自己的顺序（先列出的，再其余的），每条的生效权重、提供商自己的权重与优先级；以及强制的提供商与生效中的路由策略。',
  })
  @MODEL_ID
  @ApiJsonResponse('ModelRouting', '模型的路由。')
  @ApiErrors([401, 404], { 404: '模型不存在。' })
  getModel(@Param('id') id: string): ModelRouting {
    return this.models.view(id);
  }

  @Patch('models/:id')
  @ApiOperation({
    summary: '设置一个模型的路由',
    description:
      '设置这个模型自己的路由顺序与权重（`routes`）和强制的提供商（`forced`），只对这个模型生效、立即生效；保存在存储中，重启后仍有效，集群模式下所有副本共享。省略的字段不变，`null` 恢复默认。',
  })
  @MODEL_ID
  @ApiJsonResponse('ModelRouting', '保存后的路由。')
  @ApiErrors([400, 401, 404], { 400: '提供商不提供这个模型、同一提供商列出两次，或权重不是 0–100 的整数。', 404: '模型不存在。' })
  setModel(@Param('id') id: string, @Body() dto: SetModelRoutingDto): Promise<ModelRouting> {
    return this.models.set(id, { routes: dto.routes, forced: dto.forced });
  }

  @Delete('models/:id')
  @ApiOperation({ summary: '恢复一个模型的默认路由', description: '删除这个模型的路由顺序、权重与强制设置，恢复为按提供商的优先级与权重路由。' })
  @MODEL_ID
  @ApiJsonResponse('ModelRouting', '恢复后的路由。')
  @ApiErrors([401, 404], { 404: '模型不存在。' })
  resetModel(@Param('id') id: string): Promise<ModelRouting> {
    return this.models.reset(id);
  }
}
