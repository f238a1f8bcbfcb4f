local function sieve(flags, size)
  local prime_count = 0
  for i = 2, size do
    if flags[i] then
      prime_count = prime_count + 1
      local k = i + i
      while k <= size do
        flags[k] = false
        k = k + i
      end
    end
  end
  return prime_count
end
local total = 0
for round = 0, 299 do
  local flags = {}
  for i = 1, 5000 do flags[#flags + 1] = true end
  total = total + sieve(flags, 5000)
end
print(total)
