import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DOC_TAGS } from '../openapi/decorators.ts';
import { MetricsService } from './metrics.service.ts';

/** Prometheus' scrape endpoint: public, like /health. */
@ApiTags(DOC_TAGS.metrics)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus 指标',
    description:
      'Prometheus 文本格式的指标：请求数、延迟、token、各提供商的尝试与熔断状态、上游密钥状态，以及 Node.js 进程指标。不需要认证（与 `/health` 一样）；如需保护，请在反向代理上限制访问。',
  })
  @ApiResponse({ status: 200, description: 'Prometheus 文本格式（`text/plain; version=0.0.4`）。', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    res.status(200).type(contentType).send(body);
  }
}
