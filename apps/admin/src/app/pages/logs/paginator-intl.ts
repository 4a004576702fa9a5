import { Injectable } from '@angular/core';
import { MatPaginatorIntl } from '@angular/material/paginator';

/** MatPaginator's words in Chinese: 每页 50 条 · 1–50 / 共 128 条. */
@Injectable()
export class ZhPaginatorIntl extends MatPaginatorIntl {
  override itemsPerPageLabel = '每页条数';
  override nextPageLabel = '下一页';
  override previousPageLabel = '上一页';
  override firstPageLabel = '第一页';
  override lastPageLabel = '最后一页';
  override getRangeLabel = (page: number, pageSize: number, length: number): string => {
    if (length === 0 || pageSize === 0) return `共 ${length} 条`;
    const start = page * pageSize;
    const end = Math.min(start + pageSize, length);
    return start >= length ? `共 ${length} 条` : `${start + 1}–${end} / 共 ${length} 条`;
  };
}
