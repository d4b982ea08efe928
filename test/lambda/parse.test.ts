import { CLUSTER_ARN, ecsEvent, startEvent, stopEvent, taskArn } from './fixtures';
import { eniFromAttachments, isMalformed, parseTaskEvent, tagMap } from '../../src/lambda/parse';
import { TAG_NAME, TAG_TTL } from '../../src/shared/contract';

describe('parseTaskEvent', () => {
  test('parses a documented ECS Task State Change event given as a string body', () => {
    const parsed = parseTaskEvent('m1', JSON.stringify(startEvent('t1', { version: 3 })));
    expect(parsed).toEqual({
      messageId: 'm1',
      taskArn: taskArn('t1'),
      taskId: 't1',
      clusterArn: CLUSTER_ARN,
      group: 'service:minecraft',
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      version: 3,
      eniId: 'eni-t1',
    });
    expect(isMalformed(parsed)).toBe(false);
  });

  test('parses the same event given as an object body', () => {
    const event = stopEvent('t1');
    expect(parseTaskEvent('m2', event)).toEqual(parseTaskEvent('m2', JSON.stringify(event)));
    expect(parseTaskEvent('m2', event)).toMatchObject({ messageId: 'm2', lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 6 });
  });

  test('takes the task id from an old-format task ARN', () => {
    const event = startEvent('t1');
    (event.detail as Record<string, unknown>).taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/7c4e1a3b-1111-2222-3333-444455556666';
    expect(parseTaskEvent('m', event)).toMatchObject({ taskId: '7c4e1a3b-1111-2222-3333-444455556666' });
  });

  test('a standalone task has no group and a task without attachments no ENI', () => {
    const parsed = parseTaskEvent('m', ecsEvent({ id: 't1', group: null, eniId: null }));
    expect(parsed).toMatchObject({ taskId: 't1' });
    expect((parsed as { group?: string }).group).toBeUndefined();
    expect((parsed as { eniId?: string }).eniId).toBeUndefined();
  });

  test('a missing version counts as 0 and a numeric string is read as a number', () => {
    const noVersion = startEvent('t1');
    delete (noVersion.detail as Record<string, unknown>).version;
    expect(parseTaskEvent('m', noVersion)).toMatchObject({ version: 0 });
    const stringVersion = startEvent('t1');
    (stringVersion.detail as Record<string, unknown>).version = '7';
    expect(parseTaskEvent('m', stringVersion)).toMatchObject({ version: 7 });
  });

  const withDetail = (patch: Record<string, unknown>) => {
    const event = startEvent('t1');
    return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...patch } };
  };

  test.each<[string, unknown, RegExp]>([
    ['not JSON', '{"source": "aws.ecs"', /^body is not JSON$/],
    ['an empty string', '', /^body is not JSON$/],
    ['JSON null', 'null', /^body is not a JSON object$/],
    ['a JSON array', '[]', /^body is not a JSON object$/],
    ['a JSON number', '12', /^body is not a JSON object$/],
    ['undefined', undefined, /^body is not a JSON object$/],
    ['another source', { ...startEvent('t1'), source: 'aws.ec2' }, /^not an ECS Task State Change event \(source "aws.ec2"/],
    ['another detail-type', { ...startEvent('t1'), 'detail-type': 'ECS Container Instance State Change' }, /detail-type "ECS Container Instance State Change"/],
    ['a bare detail', startEvent('t1').detail, /^not an ECS Task State Change event/],
    ['no detail', { ...startEvent('t1'), detail: undefined }, /^event has no detail object$/],
    ['an array detail', { ...startEvent('t1'), detail: [] }, /^event has no detail object$/],
    ['no taskArn', withDetail({ taskArn: undefined }), /^detail\.taskArn is not a task ARN: undefined$/],
    ['a numeric taskArn', withDetail({ taskArn: 12 }), /^detail\.taskArn is not a task ARN: 12$/],
    ['a service ARN as taskArn', withDetail({ taskArn: 'arn:aws:ecs:eu-west-1:123456789012:service/games/mc' }), /^detail\.taskArn is not a task ARN/],
    ['a task ARN without id', withDetail({ taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/' }), /^detail\.taskArn is not a task ARN/],
    ['no clusterArn', withDetail({ clusterArn: undefined }), /^detail\.clusterArn is missing/],
    ['an empty clusterArn', withDetail({ clusterArn: '' }), /^detail\.clusterArn is missing/],
    ['no lastStatus', withDetail({ lastStatus: undefined }), /^detail\.lastStatus \/ detail\.desiredStatus are missing/],
    ['no desiredStatus', withDetail({ desiredStatus: 5 }), /^detail\.lastStatus \/ detail\.desiredStatus are missing/],
    ['a non-numeric version', withDetail({ version: 'seven' }), /^detail\.version is not a number: "seven"$/],
  ])('refuses a message that is %s', (_what, body, reason) => {
    const parsed = parseTaskEvent('bad', body);
    expect(isMalformed(parsed)).toBe(true);
    expect(parsed).toEqual({ messageId: 'bad', reason: expect.stringMatching(reason) });
  });
});

describe('eniFromAttachments', () => {
  const attachment = (type: string, details: unknown) => ({ id: 'x', type, status: 'ATTACHED', details });
  const eniDetail = (value: unknown) => [{ name: 'subnetId', value: 'subnet-1' }, { name: 'networkInterfaceId', value }];

  test.each<[string, unknown, string | undefined]>([
    ['an event attachment (type eni)', [attachment('eni', eniDetail('eni-1'))], 'eni-1'],
    ['a DescribeTasks attachment (type ElasticNetworkInterface)', [attachment('ElasticNetworkInterface', eniDetail('eni-2'))], 'eni-2'],
    ['the ENI among other attachments', [attachment('Service Connect', eniDetail('eni-x')), attachment('eni', eniDetail('eni-3'))], 'eni-3'],
    ['undefined', undefined, undefined],
    ['not an array', { type: 'eni' }, undefined],
    ['an empty list', [], undefined],
    ['an attachment without details', [{ type: 'eni' }], undefined],
    ['details that are not a list', [attachment('eni', { networkInterfaceId: 'eni-1' })], undefined],
    ['details without networkInterfaceId', [attachment('eni', [{ name: 'subnetId', value: 'subnet-1' }])], undefined],
    ['an empty networkInterfaceId', [attachment('eni', eniDetail(''))], undefined],
    ['a non-string networkInterfaceId', [attachment('eni', eniDetail(7))], undefined],
    ['another attachment type only', [attachment('elastic-inference', eniDetail('eni-4'))], undefined],
    ['null entries', [null, attachment('eni', [null, ...eniDetail('eni-5')])], 'eni-5'],
  ])('%s', (_what, attachments, expected) => {
    expect(eniFromAttachments(attachments)).toBe(expected);
  });
});

describe('tagMap', () => {
  test.each<[string, Parameters<typeof tagMap>[0], Record<string, string>]>([
    ['undefined', undefined, {}],
    ['empty', [], {}],
    ['EC2 style (Key/Value)', [{ Key: TAG_NAME, Value: 'mc' }, { Key: TAG_TTL, Value: '60' }], { [TAG_NAME]: 'mc', [TAG_TTL]: '60' }],
    ['ECS style (key/value)', [{ key: TAG_NAME, value: 'mc' }], { [TAG_NAME]: 'mc' }],
    ['an empty value kept', [{ Key: 'k', Value: '' }], { k: '' }],
    ['entries without a key or value dropped', [{ Key: 'k' }, { Value: 'v' }, { key: 'x', value: 'y' }], { x: 'y' }],
    ['the last of duplicates wins', [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }], { k: '2' }],
  ])('%s', (_what, tags, expected) => {
    expect(tagMap(tags)).toEqual(expected);
  });
});
