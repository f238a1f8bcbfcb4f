local seed = 74755
local function next_random()
  seed = ((seed * 1309) + 13849) & 65535
  return seed
end
local function bounce(b)
  local x_limit, y_limit = 500, 500
  local bounced = false
  b.x = b.x + b.x_vel
  b.y = b.y + b.y_vel
  if b.x > x_limit then b.x = x_limit; b.x_vel = 0 - math.abs(b.x_vel); bounced = true end
  if b.x < 0 then b.x = 0; b.x_vel = math.abs(b.x_vel); bounced = true end
  if b.y > y_limit then b.y = y_limit; b.y_vel = 0 - math.abs(b.y_vel); bounced = true end
  if b.y < 0 then b.y = 0; b.y_vel = math.abs(b.y_vel); bounced = true end
  return bounced
end
local Ball = {bounce = bounce}
local function new_ball()
  return {cls = Ball, x = next_random() % 500, y = next_random() % 500,
          x_vel = (next_random() % 300) - 150, y_vel = (next_random() % 300) - 150}
end
local total = 0
for round = 0, 299 do
  local balls = {}
  for i = 1, 100 do balls[#balls + 1] = new_ball() end
  local bounces = 0
  for i = 1, 50 do
    for _, ball in ipairs(balls) do
      if ball.cls.bounce(ball) then bounces = bounces + 1 end
    end
  end
  total = total + bounces
end
print(total)
