local function record(i)
  return "{\"id\": " .. i .. ", \"name\": \"item" .. (i * 7 % 1000)
    .. "\", \"tags\": [\"t" .. (i % 3) .. "\", \"x\"], \"score\": " .. (i * 31 % 977) .. "}"
end
local function build(n)
  local parts = {}
  for i = 0, n - 1 do parts[#parts + 1] = record(i) end
  return "[" .. table.concat(parts, ", ") .. "]"
end
local function char(p)
  return p.text:sub(p.at + 1, p.at + 1)
end
local function skip_space(p)
  while p.at < p.len and (char(p) == " " or char(p) == "\n") do p.at = p.at + 1 end
end
local function parse_string(p)
  p.at = p.at + 1
  local out = ""
  while char(p) ~= "\"" do
    out = out .. char(p)
    p.at = p.at + 1
  end
  p.at = p.at + 1
  return out
end
local function parse_number(p)
  local n = 0
  while p.at < p.len do
    local c = p.text:byte(p.at + 1)
    if c < 48 or c > 57 then break end
    n = n * 10 + c - 48
    p.at = p.at + 1
  end
  return n
end
local parse_value
parse_value = function(p)
  skip_space(p)
  local c = char(p)
  if c == "{" then
    p.at = p.at + 1
    local obj = {}
    skip_space(p)
    while char(p) ~= "}" do
      skip_space(p)
      local key = parse_string(p)
      skip_space(p)
      p.at = p.at + 1
      obj[key] = parse_value(p)
      skip_space(p)
      if char(p) == "," then p.at = p.at + 1 end
    end
    p.at = p.at + 1
    return obj
  end
  if c == "[" then
    p.at = p.at + 1
    local items = {}
    skip_space(p)
    while char(p) ~= "]" do
      items[#items + 1] = parse_value(p)
      skip_space(p)
      if char(p) == "," then p.at = p.at + 1 end
    end
    p.at = p.at + 1
    return items
  end
  if c == "\"" then return parse_string(p) end
  return parse_number(p)
end
local text = build(2000)
local checksum = 0
for round = 0, 14 do
  local p = {text = text, at = 0, len = #text}
  local records = parse_value(p)
  for _, r in ipairs(records) do
    checksum = (checksum + r.id + r.score + #r.name + #r.tags + #r.tags[1]) % 1000000007
  end
end
print(#text .. " " .. checksum)
