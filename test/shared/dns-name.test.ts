import {
  isNormalizedName, LABEL_PATTERN, labelFault, MAX_LABEL_LENGTH, MAX_NAME_LENGTH, normalizeName, stripDot,
} from '../../src/shared/dns-name';

describe('normalizeName and isNormalizedName', () => {
  test.each([
    ['mc.example.com.', 'mc.example.com.'],
    ['MC.Example.com', 'mc.example.com.'],
    ['mc.example.com', 'mc.example.com.'],
  ])('normalizeName(%p) = %p', (name, normal) => {
    expect(normalizeName(name)).toBe(normal);
    expect(isNormalizedName(normal)).toBe(true);
  });

  test.each([
    ['upper case', 'MC.example.com.'],
    ['no trailing dot', 'mc.example.com'],
    ['both', 'Mc.Example.Com'],
  ])('a name with %s is not normalized', (_what, name) => {
    expect(isNormalizedName(name)).toBe(false);
  });
});

describe('stripDot', () => {
  test.each([
    ['mc.example.com.', 'mc.example.com'],
    ['mc.example.com', 'mc.example.com'],
    ['.', ''],
    ['', ''],
  ])('stripDot(%p) = %p', (name, stripped) => {
    expect(stripDot(name)).toBe(stripped);
  });
});

describe('label rules', () => {
  test('the limits of RFC 1035', () => {
    expect([MAX_LABEL_LENGTH, MAX_NAME_LENGTH]).toEqual([63, 253]);
    expect(LABEL_PATTERN.test('my_game-1')).toBe(true);
    expect(LABEL_PATTERN.test('my.game')).toBe(false);
  });

  test.each<[string, string, ReturnType<typeof labelFault>]>([
    ['a plain label', 'mc', undefined],
    ['letters, digits, _ and - inside', 'My_game-2', undefined],
    ['a label of 63 characters', 'a'.repeat(63), undefined],
    ['an empty label', '', 'empty'],
    ['a wildcard', '*', 'wildcard'],
    ['a wildcard inside', 'a*b', 'wildcard'],
    ['a space', 'my game', 'characters'],
    ['a non-ASCII letter', 'jeü', 'characters'],
    ['a label of 64 characters', 'a'.repeat(64), 'too-long'],
    ['a leading hyphen', '-mc', 'hyphen-at-edge'],
    ['a trailing hyphen', 'mc-', 'hyphen-at-edge'],
  ])('%s → %p', (_what, label, fault) => {
    expect(labelFault(label)).toBe(fault);
  });
});
