import { reasonText } from './provider-reason';

describe('reasonText', () => {
  it('says why a provider is not available, in Chinese', () => {
    expect(reasonText(null)).toBeNull();
    expect(reasonText('disabled by the operator')).toBe('已在控制台停用');
    expect(reasonText('needs an API key (DEEPINFRA_API_KEY)')).toBe('缺少 API 密钥（DEEPINFRA_API_KEY）');
    expect(reasonText('needs CLOUDFLARE_ACCOUNT_ID')).toBe('缺少设置：CLOUDFLARE_ACCOUNT_ID');
    expect(reasonText('cooling down after failures: HTTP 500')).toBe('连续失败，冷却中：HTTP 500');
    expect(reasonText('cooling down after failures:')).toBe('连续失败，冷却中');
    expect(reasonText('every key is cooling down or invalid')).toBe('所有密钥都在冷却或已失效');
    expect(reasonText('something new')).toBe('something new');
  });
});
