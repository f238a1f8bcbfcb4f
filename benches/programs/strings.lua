local syllables = { "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi" }
local seed = 42
local function next()
  seed = (seed * 16807) % 2147483647
  return seed
end
local counts, prefixes = {}, {}
local line = ""
local lines, total_len = 0, 0
for i = 1, 400000 do
  local r = next()
  local word = syllables[r % 8 + 1] .. syllables[(r // 8) % 8 + 1] .. syllables[(r // 64) % 8 + 1]
  local c = counts[word]
  if c == nil then counts[word] = 1 else counts[word] = c + 1 end
  local p = string.sub(word, 1, 2)
  local pc = prefixes[p]
  if pc == nil then prefixes[p] = 1 else prefixes[p] = pc + 1 end
  line = line .. word .. " "
  if #line > 60 then
    total_len = total_len + #line
    lines = lines + 1
    line = ""
  end
end
local distinct, nprefix, most = 0, 0, 0
for k, v in pairs(counts) do distinct = distinct + 1; if v > most then most = v end end
for k, v in pairs(prefixes) do nprefix = nprefix + 1 end
print(distinct .. " " .. nprefix .. " " .. most .. " " .. lines .. " " .. total_len)
